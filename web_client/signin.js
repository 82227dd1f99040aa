// The sign-in card: mobile number, the code sent by SMS, resend, and (in a demo) "Continue as
// guest". Errors come from the API's 4xx body and name the field they are about.

import { ApiError, maskPhone } from "./auth.js";

// Codes arrive within seconds; a shorter wait invites a second SMS before the first one lands.
const RESEND_AFTER_S = 30;

const NETWORK = "Could not reach the clinic. Check your internet connection and try again.";
const FIELD_LABELS = { phone: "Mobile number", code: "Code", challenge_id: "Code" };

const $ = (id) => document.getElementById(id);

/** What to tell the patient about a failed request, naming the field when the API did. */
function describe(err) {
  if (!(err instanceof ApiError)) return "Something went wrong. Please try again.";
  if (err.code === "NETWORK") return NETWORK;
  if (err.code === "VALIDATION_ERROR" && Array.isArray(err.details) && err.details.length) {
    const { field, message } = err.details[0];
    return `${FIELD_LABELS[field] ?? field}: ${message}.`;
  }
  if (err.status === 429 && err.code === "RATE_LIMITED") {
    const wait = err.retryAfter ? ` Try again in ${err.retryAfter} seconds.` : "";
    return `Too many attempts.${wait}`;
  }
  if (err.status >= 500) return "The clinic's server had a problem. Please try again.";
  return err.message;
}

/** What to tell the patient about a code the server did not accept. */
function describeCode(err) {
  switch (err instanceof ApiError ? err.code : "") {
    case "OTP_INVALID": {
      const left = err.details?.attempts_left;
      return typeof left === "number"
        ? `That code is not right. ${left} ${left === 1 ? "attempt" : "attempts"} left.`
        : "That code is not right. Press Resend code for a new one.";
    }
    case "OTP_EXPIRED":
      return "This code has expired. Press Resend code for a new one.";
    case "OTP_LOCKED":
      return "Too many wrong codes. Press Resend code for a new one.";
    case "OTP_USED":
      return "This code was already used. Press Resend code for a new one.";
    default:
      return describe(err);
  }
}

/** The sign-in card, driving a ``PatientSession``. */
export class SignIn {
  /**
   * @param {import("./auth.js").PatientSession} session the tab's patient session.
   * @param {{signedIn: () => void, guest: () => void}} on what to do once signed in, or as a guest.
   */
  constructor(session, on) {
    this.session = session;
    this.on = on;
    this.challenge = null;
    this.phone = "";
    this.countdown = null;
    this.ui = {
      phoneForm: $("phone-form"), phone: $("phone"), phoneError: $("phone-error"),
      sendCode: $("send-code"), codeForm: $("code-form"), code: $("code"),
      codeError: $("code-error"), codeSent: $("code-sent"), verify: $("verify"),
      resend: $("resend"), changePhone: $("change-phone"), notice: $("signin-notice"),
      guestOption: $("guest-option"), guest: $("guest"),
    };
    this.ui.phoneForm.addEventListener("submit", (e) => { e.preventDefault(); this.sendCode(); });
    this.ui.codeForm.addEventListener("submit", (e) => { e.preventDefault(); this.verify(); });
    this.ui.resend.addEventListener("click", () => this.resend());
    this.ui.changePhone.addEventListener("click", () => this.askPhone());
    this.ui.guest.addEventListener("click", () => this.on.guest());
  }

  /** Show the card at its first step, with ``notice`` (why the patient is here) if any. */
  reset(notice = "", { focus = true } = {}) {
    this.ui.notice.textContent = notice;
    this.ui.notice.hidden = !notice;
    // A shared phone or clinic tablet: the next person sees neither number nor code.
    this.ui.phone.value = "";
    this.ui.code.value = "";
    this.phone = "";
    this.askPhone({ focus });
  }

  /** Offer "Continue as guest" (the server allows guest demos). */
  offerGuest(allowed) {
    this.ui.guestOption.hidden = !allowed;
  }

  askPhone({ focus = true } = {}) {
    this.challenge = null;
    this.stopCountdown();
    this.showError("phone", "");
    this.showError("code", "");
    this.ui.codeForm.hidden = true;
    this.ui.phoneForm.hidden = false;
    if (focus) this.ui.phone.focus();
  }

  async sendCode() {
    const phone = this.ui.phone.value.trim();
    if (!phone) {
      this.showError("phone", "Mobile number: enter your 10-digit mobile number.");
      return;
    }
    this.showError("phone", "");
    await this.busy(this.ui.sendCode, async () => {
      try {
        this.challenge = await this.session.requestCode(phone);
      } catch (err) {
        this.showError("phone", describe(err));
        return;
      }
      this.phone = phone;
      this.askCode();
    });
  }

  askCode() {
    this.ui.phoneForm.hidden = true;
    this.ui.codeForm.hidden = false;
    this.ui.codeSent.textContent = `We sent a 6-digit code to ${maskPhone(this.phone)}.`;
    this.showError("code", "");
    this.ui.code.value = "";
    this.ui.code.focus();
    this.startCountdown();
  }

  async resend() {
    this.showError("code", "");
    await this.busy(this.ui.resend, async () => {
      try {
        this.challenge = await this.session.requestCode(this.phone);
      } catch (err) {
        this.showError("code", describe(err));
        return;
      }
      this.askCode();
    });
  }

  async verify() {
    const code = this.ui.code.value.replace(/\s/g, "");
    if (!/^\d{6}$/.test(code)) {
      this.showError("code", "Code: enter the 6 digits from the SMS.");
      return;
    }
    await this.busy(this.ui.verify, async () => {
      try {
        await this.session.verify(this.challenge, code, this.phone);
      } catch (err) {
        this.showError("code", describeCode(err));
        this.ui.code.select();
        return;
      }
      this.stopCountdown();
      this.on.signedIn();
    });
  }

  showError(field, message) {
    const input = field === "phone" ? this.ui.phone : this.ui.code;
    const box = field === "phone" ? this.ui.phoneError : this.ui.codeError;
    box.textContent = message;
    box.hidden = !message;
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }

  async busy(button, work) {
    button.disabled = true;
    try {
      await work();
    } finally {
      button.disabled = false;
      if (button === this.ui.resend) this.tickCountdown();
    }
  }

  startCountdown() {
    this.stopCountdown();
    this.resendAt = Date.now() + RESEND_AFTER_S * 1000;
    this.tickCountdown();
    this.countdown = setInterval(() => this.tickCountdown(), 1000);
  }

  tickCountdown() {
    const left = Math.ceil((this.resendAt - Date.now()) / 1000);
    this.ui.resend.disabled = left > 0;
    this.ui.resend.textContent = left > 0 ? `Resend code (${left} s)` : "Resend code";
    if (left <= 0) this.stopCountdown();
  }

  stopCountdown() {
    clearInterval(this.countdown);
    this.countdown = null;
  }
}
