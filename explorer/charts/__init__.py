"""Pure functions returning altair charts (testable without streamlit), one module per feature."""
