"""The three answering agents over one chat model."""
