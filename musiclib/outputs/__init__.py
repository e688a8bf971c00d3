"""What a person sees and hears: sheet music, MIDI and audio, tables, plots and sentences.
"""
