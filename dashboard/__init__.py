"""The Streamlit adapter: the only package that imports streamlit (and altair, its charts)."""
