"""The app's pages (registered in app.py with st.navigation); a package only so that import-linter sees them."""
