"""Shared by the sound and render tests: a melody, the audio skip mark and the length of an OGG stream."""

import pytest

from musiclib.outputs import sound

MELODY = [60, 62, 64, 62, 67, 65, 65, 69]
needs_audio = pytest.mark.skipif(
    not sound.audio_available(), reason=f"audio rendering unavailable: {sound.audio_unavailable_reason()}"
)


def ogg_seconds(payload):
    """Duration of an OGG Vorbis stream: the last page's granule position over the sample rate."""
    last_page = payload.rindex(b"OggS")
    samples = int.from_bytes(payload[last_page + 6:last_page + 14], "little")
    return samples / sound.AUDIO_SAMPLE_RATE_HZ
