"""All configuration, read once from ``DHANVANTRI_*`` environment variables."""

from __future__ import annotations

import ipaddress
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Server settings. Every field can be set as ``DHANVANTRI_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="DHANVANTRI_", extra="ignore")

    # --- server ---
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Field(default=Path("var"), description="Databases, vault, indexes, keys.")
    log_level: str = "INFO"
    # Consultations need a signed-in patient (phone OTP); False ("0") allows guest demos,
    # which leave no record for a physician.
    require_auth: bool = True
    public_base_url: str = ""
    # The proxies in front (comma-separated addresses or CIDR blocks) whose X-Forwarded-For is
    # believed: behind a proxy every client comes from its address, and the limits kept per
    # address (login and OTP requests, guests' consultations) would count all patients
    # together. Empty: trust none, since any client can write that header itself.
    trusted_proxies: str = ""

    # --- persistence and scale ---
    database_url: str = ""  # empty: SQLite file under data_dir
    bus: str = "memory"  # "memory" or "redis"
    redis_url: str = "redis://127.0.0.1:6379/0"

    # --- secrets (generated into data_dir on first use when unset) ---
    vault_key: SecretStr | None = None  # base64 32-byte AES-GCM key for the PHI vault
    jwt_secret: SecretStr | None = None
    # PHI columns at rest: base64 32-byte AES-GCM key (default: derived from the server
    # secret) and, while rotating, the previous keys as a comma list (README, Security).
    data_key: SecretStr | None = None
    data_keys_old: SecretStr | None = None
    signing_key_path: Path | None = None  # Ed25519 PEM for prescriptions
    # The audit chain's HMAC key (default: derived from the server secret); production sets its
    # own, kept apart from the database and its backups (README, Security).
    audit_key: SecretStr | None = None
    # How often the server appends the audit head to <data dir>/audit_anchors.jsonl (0: never).
    audit_anchor_minutes: float = Field(default=15.0, ge=0)

    # --- speech ---
    sample_rate: int = 16000
    vad_threshold: float = 0.5
    vad_hangover_ms: int = 320  # silence after speech before the turn ends
    vad_min_speech_ms: int = 120
    stt_model_dir: Path | None = None  # default: the model installed by `dhanvantri setup`
    stt_threads: int = 2
    stt_language: str = "en"
    stt_partial_interval_ms: int = 400  # how often to re-decode the growing buffer
    stt_batch: int = 8  # most final decodes of concurrent consultations merged into one call
    stt_partial_share: float = 0.6  # part of a core partial decodes may use (0: no gate)
    stt_partial_nice: int = 15  # partial decodes' thread priority (nice; 0: as the rest)
    stt_busy_wait_ms: int = 128  # longer pause before a speculative final while others work
    # Listen for the answer to the question asked (decoder prompt) and check clinical words
    # against the knowledge base's vocabulary, reading unsure ones back to the patient.
    stt_clinical_hearing: bool = True
    tts_voice_path: Path | None = None
    tts_threads: int = 1  # onnxruntime threads per synthesis (0: a thread a core)
    tts_queue: bool = True  # one queue of syntheses, first phrases first (else a thread each)
    tts_later_nice: int = 10  # later phrases' thread priority (nice; 0: as first phrases)
    output_sample_rate: int = 48000

    # --- language model ---
    llm_base_url: str = ""  # empty: start the embedded llama.cpp server on loopback
    llm_model: str = "smollm2-135m-instruct"
    llm_api_key: SecretStr | None = None
    llm_max_tokens: int = 60
    llm_temperature: float = 0.3
    llm_threads: int = 2
    llm_port: int = 0  # embedded server port; 0 picks a free one

    # --- knowledge ---
    kb_top_k: int = 3

    # --- back office (dhanvantri.platform) ---
    database_schema: str = ""  # PostgreSQL schema (search path); empty: the server's default
    access_token_minutes: int = 15
    refresh_token_days: int = 30
    otp_ttl_seconds: int = 300
    otp_max_attempts: int = 5
    login_rate_limit: str = "10/minute"  # per client address, and per account
    otp_rate_limit: str = "5/minute"  # code requests per phone number (and per address)
    # Login and family codes go only to mobile numbers of this region (ISO 3166 code).
    phone_region: str = Field(default="IN", pattern=r"^[A-Z]{2}$")

    # --- commerce: pharmacy orders, labs, payments, wallet (dhanvantri.platform) ---
    payment_gateway: str = "sandbox"  # "sandbox" (embedded, no network) or "razorpay"
    # The sandbox pays whatever it is asked: by default only a server on loopback uses it;
    # True allows it on any address (a demo), False never (payments are then off).
    payments_sandbox: bool | None = None
    razorpay_key_id: str | None = None
    razorpay_key_secret: SecretStr | None = None
    razorpay_webhook_secret: SecretStr | None = None
    razorpay_base_url: str = "https://api.razorpay.com/v1"
    platform_commission_percent: Decimal = Field(default=Decimal("10.00"), ge=0, le=100)
    delivery_otp_ttl_seconds: int = 600
    delivery_otp_max_attempts: int = 3

    # --- the health record (dhanvantri.platform.record) ---
    # A document a patient uploads, at most: it travels base64 in a JSON body, and every API
    # body is capped at 512 KiB (http/endpoint.py MAX_BODY), so 380 KiB is the most that fits.
    record_upload_max_bytes: int = Field(default=360 * 1024, ge=1024, le=380 * 1024)

    # --- emergency cards and record shares (dhanvantri.platform.sharing) ---
    # Per client address: a bystander opens a card once or twice; a crawler trying tokens
    # gets nowhere faster than this (the tokens are 256-bit anyway).
    emergency_card_rate_limit: str = "30/minute"
    # Per client address: opening share links and trying their codes (3 wrong codes lock one).
    share_rate_limit: str = "20/minute"

    # --- appointments with physicians (dhanvantri.platform.scheduling) ---
    # A patient cancelling this long before the start gets the whole fee back, later only
    # appointment_late_refund_percent of it; a physician's cancellation refunds it all.
    appointment_full_refund_hours: int = Field(default=24, ge=0)
    appointment_late_refund_percent: Decimal = Field(default=Decimal("50"), ge=0, le=100)
    appointment_booking_days: int = Field(default=60, ge=1, le=365)  # how far ahead to book
    # A booking with a fee holds its slot this long unpaid; then the slot is offered again.
    appointment_payment_hold_minutes: int = Field(default=15, ge=1)
    # Reminders before a booked appointment, minutes ahead, comma-separated: a day before and an
    # hour before. Only the latest one due is sent (a booking made 2 hours ahead gets one).
    appointment_reminder_minutes: str = Field(default="1440,60", pattern=r"^\d+(,\d+)*$")
    appointment_reminder_interval_s: float = Field(default=60.0, ge=0)  # the sweep; 0: off
    # Text messages (reminders): "console" (the server log) or "twilio" (SMS or WhatsApp).
    sms_provider: str = Field(default="console", pattern=r"^(console|twilio)$")
    sms_channel: str = Field(default="sms", pattern=r"^(sms|whatsapp)$")
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from: str | None = None  # the sending number (E.164) or WhatsApp sender
    twilio_base_url: str = "https://api.twilio.com"

    # --- realtime server (dhanvantri.realtime) ---
    web_client_dir: Path | None = None  # the patient page; default: web_client/ beside the package
    max_sessions: int = 8  # live consultations at once; more get 503 SERVER_BUSY
    # A new consultation is refused (503, Retry-After) while the recent replies' p95
    # voice-to-voice is above this (ms; 0: never): below the 1.5 s budget, so it trips in time.
    admission_slow_ms: float = 1200.0
    # A consultation not joined by then expires: long enough for ICE gathering and an offer,
    # short enough that reserved-but-unused slots come back quickly.
    consultation_connect_timeout_s: float = 20.0
    # Live or reserved consultations at once per signed-in patient (2: the WebSocket fallback
    # starts a new one while the first is still hanging up), and per address for guests; 0: none.
    consultations_per_patient: int = 2
    consultations_per_address: int = 2
    # A request body not received in full by then is answered 408 (a slow client holds no
    # handler); generous for a 512 KB body on a poor mobile link.
    request_body_timeout_s: float = Field(default=30.0, gt=0)
    # On SIGTERM the server takes no new consultation and waits this long for the live ones to
    # hang up before it cuts them (0: at once). 10 minutes covers a long consultation; the
    # orchestrator's grace period must be longer (deploy/k8s: 660 s).
    drain_seconds: float = Field(default=600.0, ge=0)

    # --- avatar video (dhanvantri.avatar) ---
    avatar_size: int = Field(default=256, ge=64, le=1024)  # square frame, pixels
    avatar_fps: int = Field(default=15, ge=1, le=30)  # cost: benchmarks/avatar_cost.py

    # --- physicians joining live (dhanvantri.realtime.escalations) ---
    escalation_timeout_s: float = Field(default=60.0, gt=0)  # then the patient is told what to do
    emergency_number: str = "112"  # India's emergency response number, spoken on timeout
    bus_prefix: str = "dhanvantri:"  # Redis channel and key namespace (one per deployment)

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: str) -> str:
        # A typo fails at start-up, not later as a proxy silently left untrusted.
        for entry in filter(None, (part.strip() for part in value.split(","))):
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError as exc:
                raise ValueError(f"not an address or network: {entry!r}") from exc
        return value

    def resolved_data_dir(self) -> Path:
        """The data directory, created if missing."""
        path = self.data_dir.expanduser().resolve()
        path.mkdir(mode=0o700, parents=True, exist_ok=True)  # owner only: PHI and keys
        return path


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (tests build their own ``Settings`` instead)."""
    return Settings()
