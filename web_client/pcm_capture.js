// The WebSocket call's audio worklet: hands the microphone's samples to the page, block by block.
// A file of its own (not a blob: URL) so that the page's script policy stays 'self'.
registerProcessor("pcm-capture", class extends AudioWorkletProcessor {
  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (channel) this.port.postMessage(channel.slice(0));
    return true;
  }
});
