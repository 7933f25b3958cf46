from django.dispatch import Signal

# Sent after commit whenever a deployment changes state; kwargs: deployment_id, state.
# The live pipeline (recognition/) starts and stops camera workers on it.
deployment_state_changed = Signal()
