/**
 * Every reason the broker refuses a client, one catalogue (docs/OPERATIONS.md,
 * "Refusal reasons" lists the same table). Each refusal is logged with its
 * reason and counted under it in `metrics().refusals`.
 *
 * CONNACK return codes are MQTT 3.1.1 section 3.2.2.3, Table 3.1:
 * 1 unacceptable protocol version, 2 identifier rejected, 3 server unavailable, 4 bad user name or password,
 * 5 not authorized.
 */
export const REFUSAL_REASONS = {
  // Before CONNECT (the socket is closed)
  connect_timeout: 'no CONNECT arrived within connectTimeoutMs of the socket opening (disconnect)',
  idle_socket_cap:
    'the remote address already holds maxIdleSocketsPerAddress sockets that have sent no CONNECT (disconnect at once)',
  idle_socket_evicted:
    'maxIdleSockets sockets had sent no CONNECT: the oldest of them is closed to make room (disconnect)',
  // CONNECT
  protocol_version:
    'the CONNECT is not MQTT 3.1.1 (protocol level 4): MQTT 3.1 (MQIsdp, level 3) and MQTT 5 are refused (CONNACK 1)',
  login_backoff:
    'too many failed password logins for this service account or from this address: refused without checking the password until the backoff ends (CONNACK 5)',
  login_busy: 'maxPending password checks are already running or waiting (CONNACK 3)',
  anonymous: 'no username: every client must authenticate (CONNACK 5)',
  client_id_mismatch:
    "a device's client id differs from its username/device id, or a client id belongs to another kind of identity (CONNACK 2)",
  bad_username: 'the username is neither a service account nor a well-formed device id (CONNACK 4)',
  unknown_device: 'no device is registered under this id (CONNACK 4)',
  token_malformed: 'the device token does not decode (CONNACK 4)',
  token_expired: 'the token time is older than the clock-skew window (CONNACK 4)',
  token_from_future: 'the token time is ahead of the broker clock by more than the skew window (CONNACK 4)',
  bad_signature: 'the token signature does not verify under the registered key for this audience (CONNACK 4)',
  token_replayed: 'the token nonce was already used inside the skew window (CONNACK 4)',
  device_revoked: 'the device is revoked; its token was valid (CONNACK 5)',
  bad_password: 'a service account password does not match its scrypt hash (CONNACK 4)',
  keepalive_out_of_range: 'keepalive is 0 or above the allowed maximum (CONNACK 5)',
  max_connections: 'the broker already holds its maximum number of connections (CONNACK 3)',
  registry_unavailable: 'the device registry lookup failed (CONNACK 3)',
  replay_cache_full: 'the token nonce cache is full (CONNACK 3)',
  // PUBLISH (the connection is closed: MQTT 3.1.1 has no negative PUBACK)
  publish_denied: "the topic is outside the client's publish ACL (disconnect)",
  payload_too_large: 'the payload exceeds maxPayloadBytes (disconnect)',
  packet_too_large: 'a packet header announces more than maxPacketBytes (disconnect before buffering it)',
  rate_limited: 'the client published faster than its rate limit allows even after throttling (disconnect)',
  // SUBSCRIBE (answered with 0x80 in SUBACK, the connection stays up)
  subscribe_denied: "the filter is outside the client's subscribe ACL (SUBACK 0x80)",
} as const

export type RefusalReason = keyof typeof REFUSAL_REASONS

/** CONNACK return code per CONNECT refusal reason (MQTT 3.1.1 Table 3.1). */
export const CONNACK_CODE: Partial<Record<RefusalReason, 1 | 2 | 3 | 4 | 5>> = {
  protocol_version: 1,
  login_backoff: 5,
  login_busy: 3,
  anonymous: 5,
  client_id_mismatch: 2,
  bad_username: 4,
  unknown_device: 4,
  token_malformed: 4,
  token_expired: 4,
  token_from_future: 4,
  bad_signature: 4,
  token_replayed: 4,
  device_revoked: 5,
  bad_password: 4,
  keepalive_out_of_range: 5,
  max_connections: 3,
  registry_unavailable: 3,
  replay_cache_full: 3,
}

/**
 * What kind of security event each refusal is, for
 * coldproof_security_events_total{kind} (docs/API.md, "Metrics").
 */
export const SECURITY_KIND = {
  connect_timeout: 'idle_socket',
  idle_socket_cap: 'idle_socket',
  idle_socket_evicted: 'idle_socket',
  protocol_version: 'protocol',
  login_backoff: 'login_backoff',
  login_busy: 'login_backoff',
  anonymous: 'login_failed',
  client_id_mismatch: 'login_failed',
  bad_username: 'login_failed',
  unknown_device: 'login_failed',
  token_malformed: 'login_failed',
  token_expired: 'login_failed',
  token_from_future: 'login_failed',
  bad_signature: 'login_failed',
  token_replayed: 'login_failed',
  device_revoked: 'login_failed',
  bad_password: 'login_failed',
  keepalive_out_of_range: 'protocol',
  max_connections: 'capacity',
  registry_unavailable: 'capacity',
  replay_cache_full: 'capacity',
  publish_denied: 'acl_denied',
  payload_too_large: 'oversize',
  packet_too_large: 'oversize',
  rate_limited: 'rate_limited',
  subscribe_denied: 'acl_denied',
} as const satisfies Record<RefusalReason, string>

export type SecurityKind = (typeof SECURITY_KIND)[RefusalReason]
