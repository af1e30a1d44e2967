"""Thin Bolt listeners: ack, hand over to ``coderank``, show the result."""
