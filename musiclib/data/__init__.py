"""Music in, sequences out: corpora and music files -> melodies -> the control, interval and DB12
variants -> vocabulary and splits (chapter 1's material).
"""
