// Call-quality statistics of one RTP stream (what the engine measures, what RTCP reports, and the G.107 E-model rating).

/** What the peer's RTCP receiver reports say about the stream we send (RFC 3550 §6.4.1). */
export interface RemoteReceptionReport {
  /** Share lost in the peer's last reporting interval, 0–1 (the 8-bit fraction / 256). */
  fractionLost: number;
  /** Packets lost since the start, as the peer counts them (may be negative with duplicates). */
  cumulativeLost: number;
  /** The peer's interarrival jitter estimate, ms. */
  jitterMs: number;
  /** Extended highest sequence number the peer received. */
  highestSeq: number;
}

/**
 * One stream's statistics at `timeMs` of engine time. Counters run from the stream's creation; "lost"
 * follows RFC 3550 Appendix A.3 (expected − received, so duplicates can offset losses).
 */
export interface RtpStreamStats {
  streamId: number;
  timeMs: number;
  localSsrc: number;
  /** The SSRC we receive, null before the first packet. */
  remoteSsrc: number | null;

  // ---- sent
  packetsSent: number;
  /** Payload octets (RFC 3550 §6.4.1 sender's octet count: no headers, no padding). */
  bytesSent: number;
  /** RFC 4733 events started. */
  dtmfEventsSent: number;
  /** Packets the kernel refused (full send buffer, no route). */
  sendErrors: number;

  // ---- received
  packetsReceived: number;
  bytesReceived: number;
  packetsExpected: number;
  packetsLost: number;
  /** Arrived after their play-out time (the jitter buffer dropped them). */
  lateDropped: number;
  duplicates: number;
  /** Arrived with a sequence number below the highest seen, still in time. */
  reordered: number;
  /** Audio made up by packet loss concealment (codec PLC). */
  concealedMs: number;
  /** Frames rebuilt from the next packet's Opus in-band FEC (RFC 7587 §3.2). */
  fecRecoveredFrames: number;
  /** Comfort noise played from RFC 3389 packets. */
  comfortNoiseMs: number;
  /**
   * Audio cut out of or added to received frames by the jitter buffer's time-stretching (the play-out
   * delay following its target by less than a frame), ms. Near 0 on a clean path.
   */
  stretchedMs: number;
  /** Packets that were not valid RTP / RTCP (or too short to be SRTP / SRTCP). */
  invalidPackets: number;
  /** SRTP / SRTCP packets dropped because their authentication tag failed (RFC 3711 §3.3, §3.4): a wrong key, or tampering. */
  srtpAuthFailures: number;
  /** SRTP / SRTCP packets dropped as replays (RFC 3711 §3.3.2): duplicates, or older than the 128-packet window. */
  srtpReplayDropped: number;
  /** RTP packets of a payload type the stream was not configured for. */
  unknownPayloadType: number;
  ssrcChanges: number;
  /** RFC 3550 Appendix A.8 interarrival jitter, ms. */
  jitterMs: number;
  /** ITU-T G.107 §7.5 BurstR of the losses seen (1 = random). */
  burstRatio: number;

  // ---- jitter buffer
  /** Delay the buffer adds now, and its target and the most seen so far, ms. */
  bufferDelayMs: number;
  bufferTargetMs: number;
  bufferMaxDelayMs: number;

  // ---- device (engine-wide)
  captureXruns: number;
  playbackXruns: number;
  /** Media ticks that started more than one period late (the engine could not keep up). */
  lateTicks: number;

  // ---- RTCP
  rtcpSent: number;
  rtcpReceived: number;
  /** Round-trip time from the last report with LSR/DLSR (RFC 3550 §6.4.1), null until one came back. */
  rttMs: number | null;
  /** The peer's latest report about us, null until one arrived. */
  remote: RemoteReceptionReport | null;

  // ---- E-model (ITU-T G.107)
  /** Mouth-to-ear estimate: RTT / 2 + jitter buffer + packetization + codec look-ahead + 20 ms device. */
  oneWayDelayMs: number;
  /** Ppl: lost + late − rebuilt by FEC, in % of expected. */
  effectiveLossPercent: number;
  /** R = 93.2 − Id − Ie,eff (G.107 defaults). G.711: Ie 0, Bpl 25.1 (G.113 App. I). Opus: Ie 0, Bpl 25.1 (ours, provisional). */
  rFactor: number;
  /** G.107 Annex B mapping of R to MOS-CQE (1–4.5). */
  mos: number;
}
