// The conversation as the page shows it: the patient's and physician's lines (partial until
// recognised), and the assistant's reply growing phrase by phrase.

export const transcript = {
  list: null, // the page's <ol>, set by attach()
  placeholder: null,

  assistantOpen: null, // the assistant's reply, growing phrase by phrase

  open: {}, // per speaker (patient, physician): their line still being recognised
  doctorName: "Doctor",

  add(role, text, final) {
    const list = this.list;
    list.querySelector(".empty")?.remove();
    if (role === "assistant") {
      // A patient's line stays open through the reply: its final words may come after the
      // reply's first phrase, and belong in that line, above the reply, not below it.
      if (!this.assistantOpen) this.assistantOpen = this.bubble("assistant", "Assistant");
      const el = this.assistantOpen.querySelector(".text");
      el.textContent = el.textContent ? `${el.textContent} ${text}` : text;
    } else {
      const speaker = role === "physician" ? "physician" : "patient";
      this.assistantOpen = null;
      let line = this.open[speaker];
      if (!text.trim() && !line) return;
      if (!line) {
        line = this.bubble(speaker, speaker === "physician" ? this.doctorName : "You");
        this.open[speaker] = line;
      }
      line.querySelector(".text").textContent = text;
      line.classList.toggle("partial", !final);
      if (final) {
        if (!text.trim()) line.remove();
        delete this.open[speaker];
      }
    }
    list.scrollTop = list.scrollHeight;
  },

  bubble(role, who) {
    const li = document.createElement("li");
    li.className = role;
    li.dataset.role = role;
    const label = document.createElement("span");
    label.className = "who";
    label.textContent = who;
    const text = document.createElement("span");
    text.className = "text";
    li.append(label, text);
    this.list.append(li);
    return li;
  },

  /** Show lines in ``list`` (the page's transcript <ol>, holding its "empty" line). */
  attach(list) {
    this.list = list;
    this.placeholder = list.querySelector(".empty")?.cloneNode(true) ?? null;
  },

  /** Remove every line (the empty-state line comes back). */
  clear() {
    this.assistantOpen = null;
    this.open = {};
    this.list.replaceChildren(...(this.placeholder ? [this.placeholder.cloneNode(true)] : []));
  },

  endReply() {
    this.assistantOpen = null;
  },
};
