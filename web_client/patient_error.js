// A failure the patient reads on the page: the message, and whether trying again may help.

/** A failure the patient should read, with whether trying again may help. */
export class PatientError extends Error {
  constructor(message, { retry = true, code = "" } = {}) {
    super(message);
    this.retry = retry;
    this.code = code;
  }
}
