from django.dispatch import Signal

# Sent after commit whenever a deployment changes state; kwargs: deployment_id, state.
# The live pipeline (recognition/) starts and stops camera workers on it.
deployment_state_changed = Signal()

# Sent inside the transaction that ends a refused (or not authorised in time) urgent use; kwargs: deployment_id,
# actor, reason. The alerts app, above deployments in the layers, deletes that deployment's alerts and their
# images and answers {"alerts": N, "images": M, "records": R}; deployments cannot import it.
deployment_outputs_discard = Signal()
