// The interop harness in one import: real peers (Kamailio, SIPp), captures (dumpcap/tshark), raw SIP probes, ports.
export { KAMAILIO_CFG, KAMAILIO_DOMAIN, KAMAILIO_USERS, type KamailioInstance, type KamailioOptions, type LocationContact, parseUlDump, startKamailio } from './kamailio.js';
export { SIPP_SCENARIO_DIR, type SippOptions, type SippProcess, type SippResult, type SippStats, parseSippStats, runSipp, startSipp } from './sipp.js';
export { CALL_SCENARIOS, type CallScenario, type CallScenarioName, type PhoneRoute, type SippTracedMessage, parseSippMessages, redirectLoopInvites, registerSippContact, sippDelayMs, sippLadder, startRegisteredSipp, uacTowardsPhone } from './sipp-calls.js';
export { type Capture, type CaptureOptions, type ReadPcapOptions, type SipPacket, type TcpPayload, readSipPcap, readTcpPayloads, sipLadder, startCapture } from './tshark.js';
export { type FreePortOptions, freePort, isListening, waitForListener } from './free-port.js';
export { type ProbeResponse, type SipProbeOptions, optionsRequest, parseProbeResponse, probeSip } from './sip-probe.js';
export { MALFORMED_REQUESTS, type MalformedCase } from './malformed.js';
export { type StubUas, type StubUasOptions, startStubUas } from './stub-uas.js';
export { type BaresipEvent, type BaresipResponse, BaresipControl } from './baresip-control.js';
export { type BaresipPhone, type BaresipPhonesOptions, startBaresipPhones } from './baresip-phones.js';
export { MissingToolError, PeerStartError, TOOL_PACKAGES, type ToolName } from './errors.js';
export { findTool } from './tools.js';
export { type Exit, LoggedProcess, childPids, procState } from './process.js';
export { type ToneOptions, ulawToneWav } from './tone-wav.js';
