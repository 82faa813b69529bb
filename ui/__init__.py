"""User-facing entry points: the command line and the Gradio chat."""

__all__: list[str] = []
