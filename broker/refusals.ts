/**
 * Every reason the broker refuses a client, one catalogue (docs/OPERATIONS.md,
 * "Refusal reasons" lists the same table). Each refusal is logged with its
 * reason and counted under it in `metrics().refusals`.
 *
 * CONNACK return codes are MQTT 3.1.1 section 3.2.2.3, Table 3.1:
 * 2 identifier rejected, 3 server unavailable, 4 bad user name or password,
 * 5 not authorized.
 */
export const REFUSAL_REASONS = {
  // CONNECT
  anonymous: 'no username: every client must authenticate (CONNACK 5)',
  client_id_mismatch: 'a device\'s client id differs from its username/device id, or a client id belongs to another kind of identity (CONNACK 2)',
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
  publish_denied: 'the topic is outside the client\'s publish ACL (disconnect)',
  payload_too_large: 'the payload exceeds maxPayloadBytes (disconnect)',
  packet_too_large: 'a packet header announces more than maxPacketBytes (disconnect before buffering it)',
  rate_limited: 'the client published faster than its rate limit allows even after throttling (disconnect)',
  // SUBSCRIBE (answered with 0x80 in SUBACK, the connection stays up)
  subscribe_denied: 'the filter is outside the client\'s subscribe ACL (SUBACK 0x80)',
} as const

export type RefusalReason = keyof typeof REFUSAL_REASONS

/** CONNACK return code per CONNECT refusal reason (MQTT 3.1.1 Table 3.1). */
export const CONNACK_CODE: Partial<Record<RefusalReason, 2 | 3 | 4 | 5>> = {
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
