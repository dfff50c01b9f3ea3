from django.db import models
from django.db.models import Q


class RecomputeRun(models.Model):
    """One full recompute (every customer, as of a day): its state and progress.

    At most one is open at a time (the partial unique constraint below), so two full
    recomputes never interleave. A run fanned out over Celery workers has one
    RecomputeChunk per id range; a run in one process has a single chunk.
    """

    class State(models.TextChoices):
        RUNNING = "running", "Running"
        FINISHING = "finishing", "Finishing"  # every chunk done: RFM, predictions, alerts
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    OPEN_STATES = (State.RUNNING, State.FINISHING)

    as_of = models.DateField()
    rule_set = models.ForeignKey("engagement.RuleSet", on_delete=models.PROTECT)
    state = models.CharField(max_length=10, choices=State.choices, default=State.RUNNING)
    # True while running or finishing; None after (NULLs never collide in the constraint).
    is_open = models.BooleanField(null=True, default=True, editable=False)
    fan_out = models.BooleanField(default=False)  # chunks on Celery workers
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    customers = models.PositiveIntegerField(default=0)  # stored so far
    customers_total = models.PositiveIntegerField(default=0)
    # The task that started it (the API answers GET /api/engagement/recompute/<task id>/).
    task_id = models.CharField(max_length=255, blank=True, db_index=True)
    # A rule change during the run: the run finishes, then another one starts.
    rerun = models.BooleanField(default=False)
    # The refresh outbox marks this run covers (customers.outbox.customer_changes_cover).
    cover_token = models.BigIntegerField(null=True, blank=True)
    started_at = models.DateTimeField()
    heartbeat_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_open"], condition=Q(is_open=True), name="one_open_recompute_run"
            ),
        ]

    def __str__(self):
        progress = f"{self.chunks_done}/{self.chunks_total}"
        return f"recompute as of {self.as_of} ({self.state}, {progress})"


class RecomputeChunk(models.Model):
    """One id range of a run; done once its results are stored (a redelivery redoes it)."""

    run = models.ForeignKey(RecomputeRun, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    lo = models.BigIntegerField()
    hi = models.BigIntegerField()
    customers = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    seconds = models.FloatField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    worker = models.CharField(max_length=200, blank=True)
    summary = models.JSONField(default=dict, blank=True)  # the recompute's, for the run's

    class Meta:
        ordering = ["run", "index"]
        constraints = [
            models.UniqueConstraint(fields=["run", "index"], name="one_chunk_per_index"),
        ]

    def __str__(self):
        return f"chunk {self.index} of run {self.run_id} ({self.lo}-{self.hi})"
