"""Pure Block Kit builders: plain data in, validated ``slack_sdk.models.blocks`` dicts out."""
