"""The logic behind the app's pages, without Streamlit (unit-tested directly)."""
