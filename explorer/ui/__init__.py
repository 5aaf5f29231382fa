"""The only place outside pages/ that imports streamlit: widgets and renderers shared by pages."""
