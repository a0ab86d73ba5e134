"""What a notebook receives when it displays an object: the bundle of IPython's display message."""
from IPython.core.interactiveshell import InteractiveShell
from IPython.display import display
from IPython.utils.capture import capture_output


def displayed(obj) -> dict:
    """``display(obj)`` in an IPython shell; the one message's data (mime type -> content)."""
    InteractiveShell.instance()
    with capture_output() as captured:
        display(obj)
    assert len(captured.outputs) == 1, f"display sent {len(captured.outputs)} messages"
    return captured.outputs[0].data
