"""Foundations every layer uses: argument checks, atomic files, a quiet console.
"""
