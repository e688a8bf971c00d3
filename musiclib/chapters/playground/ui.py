"""The playground's controls in JupyterLab (ipywidgets), wired to :mod:`musiclib.chapters.playground.composer`.

Notebook: 06_playground.
"""

from __future__ import annotations

import html

from musiclib.chapters.playground.composer import DEFAULT_SEEDS, Playground
from musiclib.models.generate import METHODS

KEYBOARD = ("C4", "C#4", "D4", "D#4", "E4", "F4", "F#4", "G4", "G#4", "A4", "A#4", "B4", "C5", "delete", "clear")
"""The seed keyboard: one octave of note names, then keys that remove the last token or all of them."""


def edit_seed(text: str, key: str) -> str:
    """The seed text after pressing ``key`` of :data:`KEYBOARD`: a note name is appended, ``delete``
    removes the last token, ``clear`` empties the seed.

    Raises
    ------
    ValueError
        ``key`` is not on the keyboard.
    """
    if key not in KEYBOARD:
        raise ValueError(f"key {key!r} is not one of {', '.join(KEYBOARD)}")
    tokens = text.replace(",", " ").split()
    if key == "clear":
        return ""
    if key == "delete":
        return " ".join(tokens[:-1])
    return " ".join([*tokens, key])


def playground_ui(playground: Playground):
    """The ipywidgets controls: run, seed (typed, or clicked on a one-octave keyboard), temperature,
    method, notes, random seed, a compose button and the output area, in a ``VBox`` (each control
    carries a ``musiclib-...`` CSS class).

    Parameters
    ----------
    playground : musiclib.chapters.playground.composer.Playground
        The runs and the training songs to judge compositions by.

    Returns
    -------
    ipywidgets.VBox
        The controls; display it in a notebook.

    Raises
    ------
    ValueError
        ``playground`` has no finished run (call :func:`musiclib.chapters.playground.composer.ensure_run` first).
    """
    import ipywidgets as widgets
    from IPython.display import display

    runs = playground.runs()
    if not runs:
        raise ValueError(f"no finished run under {playground.runs_dir}; call ensure_run first")
    style = {"description_width": "8em"}
    layout = widgets.Layout(width="36em")
    run = widgets.Dropdown(options=[(info.label, info) for info in runs], description="model", style=style, layout=layout)
    seed = widgets.Text(value=DEFAULT_SEEDS[runs[0].variant], description="seed", style=style, layout=layout)
    temperature = widgets.FloatSlider(value=1.0, min=0.1, max=2.0, step=0.05, description="temperature", style=style)
    method = widgets.ToggleButtons(options=list(METHODS), description="method", style=style)
    n_notes = widgets.IntSlider(value=30, min=1, max=120, description="notes", style=style)
    random_seed = widgets.IntText(value=0, description="random seed", style=style)
    keys = [widgets.Button(description=key, layout=widgets.Layout(width="4.2em")) for key in KEYBOARD]
    for key in keys:
        key.add_class("musiclib-key")
        key.on_click(lambda pressed: setattr(seed, "value", edit_seed(seed.value, pressed.description)))
    keyboard = widgets.HBox(keys, layout=widgets.Layout(margin="0 0 0 8.5em", flex_flow="row wrap"))
    button = widgets.Button(description="compose", button_style="primary", icon="music")
    output = widgets.Output()
    controls = {"run": run, "seed": seed, "keyboard": keyboard, "temperature": temperature, "method": method, "notes": n_notes,
                "random-seed": random_seed, "compose": button, "output": output}
    for name, control in controls.items():
        control.add_class(f"musiclib-{name}")

    def new_run(change):
        seed.value = DEFAULT_SEEDS[change["new"].variant]

    def compose(_):
        with output:
            output.clear_output(wait=True)
            try:
                display(playground.compose(run.value, seed.value, n_notes=n_notes.value, temperature=temperature.value,
                                           method=method.value, random_seed=random_seed.value))
            except ValueError as error:
                display(widgets.HTML(f'<p class="musiclib-error" style="color:#b00">{html.escape(str(error))}</p>'))

    run.observe(new_run, names="value")
    button.on_click(compose)
    return widgets.VBox([run, seed, keyboard, temperature, method, n_notes, random_seed, button, output])
