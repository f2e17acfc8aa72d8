"""Model Studio's logic: data in, scikit-learn pipeline out, safe model files. No streamlit here."""
