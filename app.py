"""Model Studio: the entrypoint. A placeholder until the pages land."""

import streamlit as st

st.set_page_config(page_title="Model Studio", page_icon="📈", layout="wide")
st.title("Model Studio")
st.write("Train, save, load and explore scikit-learn models. The pages are coming.")
