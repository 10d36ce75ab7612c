"""Every stream, consumer group and key name in one place.

No other module spells a Redis key.  Keys that belong to one grievance carry the
grievance id in a hash tag (``{id}``) so that, on Redis Cluster, a grievance's hash,
timeline and action log live in one slot (see README, "Scaling out").
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PREFIX = "zt:"

# Consumer groups: one per service that reads a stream.
GROUP_INTAKE = "intake"
GROUP_ROUTER = "router"
GROUP_NOTIFIER = "notifier"

# The single field that carries every stream entry's JSON body (SPEC §3).
PAYLOAD_FIELD = "payload"


@dataclass(frozen=True, slots=True)
class Keys:
    """Stream and key names under one configurable prefix."""

    prefix: str = DEFAULT_PREFIX

    # --- streams (public contract, SPEC §3) ---
    @property
    def intake(self) -> str:
        return f"{self.prefix}intake"

    @property
    def intake_rejected(self) -> str:
        return f"{self.prefix}intake.rejected"

    @property
    def submitted(self) -> str:
        return f"{self.prefix}submitted"

    @property
    def actions(self) -> str:
        return f"{self.prefix}actions"

    @property
    def events(self) -> str:
        return f"{self.prefix}events"

    @property
    def deliveries(self) -> str:
        return f"{self.prefix}deliveries"

    @property
    def dlq(self) -> str:
        return f"{self.prefix}dlq"

    # --- router state ---
    def grievance(self, grievance_id: str) -> str:
        return f"{self.prefix}g:{{{grievance_id}}}"

    def document(self, grievance_id: str) -> str:
        """Return the key of the submitted grievance document (JSON, kept out of the hash)."""
        return f"{self.prefix}doc:{{{grievance_id}}}"

    def timeline(self, grievance_id: str) -> str:
        return f"{self.prefix}tl:{{{grievance_id}}}"

    def applied_actions(self, grievance_id: str) -> str:
        return f"{self.prefix}acts:{{{grievance_id}}}"

    def duplicates(self, grievance_id: str) -> str:
        """Return the set of civic reports linked to this one as duplicates."""
        return f"{self.prefix}dups:{{{grievance_id}}}"

    @property
    def timers(self) -> str:
        return f"{self.prefix}timers"

    @property
    def open_index(self) -> str:
        """Return the sorted set of open grievance ids scored by submission time."""
        return f"{self.prefix}idx:open"

    @property
    def ended_index(self) -> str:
        """Return the sorted set of ended grievance ids scored by end time (retention)."""
        return f"{self.prefix}idx:ended"

    @property
    def archived_index(self) -> str:
        """Return the sorted set of anonymised grievance ids (kept for statistics)."""
        return f"{self.prefix}idx:archived"

    # --- read side: the list's indexes (shared/indexes.py), scored by submitted_at ms ---
    @property
    def index_all(self) -> str:
        """Return the sorted set of every grievance."""
        return f"{self.prefix}idx:all"

    def index_state(self, state: str) -> str:
        return f"{self.prefix}idx:state:{state}"

    def index_unit(self, unit: str) -> str:
        """Return the sorted set of grievances ``unit`` holds or held (chain, departments)."""
        return f"{self.prefix}idx:unit:{unit}"

    def index_source(self, source: str) -> str:
        return f"{self.prefix}idx:src:{source}"

    def index_worker(self, source: str, worker_id: str) -> str:
        """Return the sorted set of one worker's grievances (a source's names never hold ':')."""
        return f"{self.prefix}idx:wrk:{source}:{worker_id}"

    def index_category(self, category: str) -> str:
        return f"{self.prefix}idx:cat:{category}"

    def index_urgency(self, urgency: str) -> str:
        return f"{self.prefix}idx:urg:{urgency}"

    @property
    def index_overdue(self) -> str:
        return f"{self.prefix}idx:overdue"

    @property
    def index_needs_review(self) -> str:
        return f"{self.prefix}idx:review"

    @property
    def index_sources(self) -> str:
        """Return the set of every source that filed a grievance (worker look-ups span them)."""
        return f"{self.prefix}idx:sources"

    def round_robin(self, branch_id: str) -> str:
        return f"{self.prefix}rr:{branch_id}"

    # --- read side: KPI counters (shared/kpi.py), hashes of ``<scope>|<counter>`` → count ---
    @property
    def kpi_all(self) -> str:
        """Return the hash of the all-time KPI counters."""
        return f"{self.prefix}kpi:all"

    def kpi_day(self, day: str) -> str:
        """Return the hash of the KPI counters of grievances submitted on ``day`` (UTC)."""
        return f"{self.prefix}kpi:d:{day}"

    @property
    def kpi_pattern(self) -> str:
        """Return the SCAN pattern of every KPI counter hash (a rebuild replaces them)."""
        return f"{self.prefix}kpi:*"

    # --- intake ---
    def idempotency(self, source: str, key: str) -> str:
        return f"{self.prefix}idem:{source}:{key}"

    def tracking(self, tracking_no: str) -> str:
        return f"{self.prefix}trk:{tracking_no}"

    def tracking_counter(self, day: str) -> str:
        return f"{self.prefix}trkseq:{day}"

    def rejected_marker(self, entry_id: str) -> str:
        return f"{self.prefix}rej:{entry_id}"

    @property
    def civic_geo(self) -> str:
        return f"{self.prefix}geo:civic"

    @property
    def civic_seen(self) -> str:
        """Return the sorted set of ``civic_geo`` members scored by report time (pruning)."""
        return f"{self.prefix}geo:civic:seen"

    def open311_requests(self, service_code: str = "") -> str:
        """Return the sorted set of public Open311 report ids scored by requested time (ms).

        One for every service and one per service code, so a filtered page reads its own.
        """
        suffix = f":{service_code}" if service_code else ""
        return f"{self.prefix}o311:req{suffix}"

    # --- consumer plumbing ---
    def last_errors(self, stream: str, group: str) -> str:
        """Return the hash of the last handler error per pending entry id."""
        return f"{self.prefix}errors:{stream}:{group}"

    # --- notifier ---
    def delivery(self, event_id: str, recipient: str, channel: str) -> str:
        return f"{self.prefix}dlv:{event_id}:{recipient}:{channel}"

    @property
    def retries(self) -> str:
        return f"{self.prefix}retries"

    def retry_job(self, job_id: str) -> str:
        return f"{self.prefix}retry:{job_id}"

    # --- notifier pacing (quiet hours, rate limits): one bucket per recipient and channel ---
    def held(self, bucket: str) -> str:
        """Return the list of held job ids of one bucket, oldest first."""
        return f"{self.prefix}held:{bucket}"

    def held_jobs(self, bucket: str) -> str:
        """Return the hash of one bucket's held job id → ``reason\\n`` + job JSON."""
        return f"{self.prefix}heldjob:{bucket}"

    def sent_log(self, bucket: str) -> str:
        """Return the sorted set of one bucket's recent sends scored by send time (rate limit)."""
        return f"{self.prefix}pace:{bucket}"

    @property
    def digests(self) -> str:
        """Return the sorted set of buckets scored by when their digest is due."""
        return f"{self.prefix}digests"
