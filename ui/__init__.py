"""What the pages share: session state, the data folder's resources, and message helpers (Streamlit)."""
