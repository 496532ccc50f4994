/*
 * cases.c — THE list of conformance cases: every backend runs exactly these,
 * through the public API only. Each row names the docs/contract.md rule(s)
 * it proves and the capabilities it needs (missing ones make it
 * "unsupported", never a pass). Scripts use the peer language of docs/peer.md.
 */
#include "cases.h"

#define WS     UNIWS_CAP_WS
#define NET    (UNIWS_CAP_WS | UNIWS_CAP_NETWORK)
#define WSS_CA (UNIWS_CAP_WSS | UNIWS_CAP_TLS_CA_FILE)
/* The close code the client sends when it fails a connection (1002, 1007,
 * 1009) is uniws's to choose only where it can send any code; a browser
 * sends what its engine decides (docs/web.md). */
#define WIRE_CODE (NET | UNIWS_CAP_ANY_CLOSE_CODE)
#define KIB       1024L
#define MIB       (1024L * 1024L)

/* Bytes of a 126-byte payload, for control frames that are too long. */
#define HEX126                                                                                     \
    "616161616161616161616161616161616161616161616161616161616161616161616161616161616161"         \
    "616161616161616161616161616161616161616161616161616161616161616161616161616161616161"         \
    "616161616161616161616161616161616161616161616161616161616161616161616161616161616161"

const conf_case conf_cases[] = {
    /* ---- echo: every frame-length boundary, both types (items 5, 7) ---- */
    {"echo_text_0", "5,7", WS, case_echo_text, 0, NULL, "empty text echoed"},
    {"echo_text_125", "5,7", WS, case_echo_text, 125, NULL, "125-byte text (7-bit length)"},
    {"echo_text_126", "5,7", WS, case_echo_text, 126, NULL, "126-byte text (16-bit length)"},
    {"echo_text_127", "5,7", WS, case_echo_text, 127, NULL, "127-byte text"},
    {"echo_text_65535", "5,7", WS, case_echo_text, 65535, NULL, "65535-byte text"},
    {"echo_text_65536", "5,7", WS, case_echo_text, 65536, NULL, "65536-byte text (64-bit length)"},
    {"echo_text_1mib", "5,7", WS, case_echo_text, MIB, NULL, "1 MiB multibyte text"},
    {"echo_text_16mib", "5,7", WS, case_echo_text, 16 * MIB, NULL, "16 MiB multibyte text"},
    {"echo_binary_0", "5,7", WS, case_echo_binary, 0, NULL, "empty binary echoed"},
    {"echo_binary_125", "5,7", WS, case_echo_binary, 125, NULL, "125-byte binary"},
    {"echo_binary_126", "5,7", WS, case_echo_binary, 126, NULL, "126-byte binary"},
    {"echo_binary_127", "5,7", WS, case_echo_binary, 127, NULL, "127-byte binary"},
    {"echo_binary_65535", "5,7", WS, case_echo_binary, 65535, NULL, "65535-byte binary"},
    {"echo_binary_65536", "5,7", WS, case_echo_binary, 65536, NULL, "65536-byte binary"},
    {"echo_binary_1mib", "5,7", WS, case_echo_binary, MIB, NULL, "1 MiB binary"},
    {"echo_binary_16mib", "5,7", WS, case_echo_binary, 16 * MIB, NULL, "16 MiB binary"},
    {"server_text_sizes", "7", WS, case_server_sizes, UNIWS_TEXT, NULL,
     "peer-made text of 0..1 MiB at every length boundary"},
    {"server_binary_sizes", "7", WS, case_server_sizes, UNIWS_BINARY, NULL,
     "peer-made binary of 0..1 MiB at every length boundary"},
    {"echo_order_1000", "7", WS, case_echo_order, 1000, NULL,
     "1000 messages of alternating type come back in order"},
    {"message_types_preserved", "7", WS, case_types_preserved, 0, NULL,
     "text/binary type of each message kept, empty ones too"},
    {"send_copies_buffer", "5", WS, case_send_copies, 0, NULL, "send copies the caller's bytes"},
    {"text_embedded_nul", "5,7", WS, case_text_embedded_nul, 0, NULL,
     "U+0000 inside text: length, not terminator"},
    {"buffered_amount", "10", WS, case_buffered_amount, 4 * MIB, NULL,
     "buffered_amount counts queued bytes and drains to 0"},
    {"many_sockets_50", "3", WS, case_many_sockets, 50, NULL, "50 concurrent echoes on one loop"},
    {"data_in_101_segment", "12", WS, case_same_segment, 0, NULL,
     "frames in the same segment as the 101 are delivered"},
    {"bytewise_writes", "7", WS, case_bytewise, 0, NULL, "every byte in its own TCP write"},

    /* ---- fragmentation and control frames (items 7, 9) ---- */
    {"frag_text_3", "7", WS, case_frag_text, 3, NULL, "text in 3 fragments"},
    {"frag_text_30", "7", WS, case_frag_text, 30, NULL, "text in 30 fragments (some empty)"},
    {"frag_binary_2", "7", WS, case_frag_binary, 2, NULL, "100000-byte binary in 2 fragments"},
    {"frag_binary_100", "7", WS, case_frag_binary, 100, NULL,
     "100000-byte binary in 100 fragments"},
    {"frag_ping_interleaved", "7,9", WS, case_frag_ping_interleaved, 0, NULL,
     "ping and pong between fragments of text and binary"},
    {"frag_utf8_split", "7", WS, case_frag_utf8_split, 0, NULL,
     "characters split across fragments are valid"},
    {"mask_per_frame", "5", WS, case_mask_per_frame, 8, NULL,
     "every frame sent is masked with its own key (RFC 6455 5.3)"},
    {"ping_answered", "9", WS, case_ping_auto, 0, NULL,
     "peer pings are answered and not delivered"},
    {"pingflood_1000", "9", WS, case_pingflood, 1000, NULL,
     "1000 pings, then the connection still works"},
    {"pong_unsolicited", "9", WS, case_unsolicited_pong, 0, NULL, "unsolicited pongs are ignored"},
    {"pong_during_large_send", "9", WS, case_pong_during_large_send, 4 * MIB, NULL,
     "300 pings while a 4 MiB frame is being written"},
    {"ping_api", "9,13", WS | UNIWS_CAP_PING, case_ping_api, 0, NULL,
     "uniws_ping: states, 125-byte limit"},

    /* ---- framing errors fail the connection (items 2, 7) ---- */
    {"frame_rsv1", "2,7", WS, case_protocol_violation, UNIWS_EPROTOCOL, "/script/frame:c1026869",
     "RSV1 without an extension"},
    {"frame_rsv2", "2,7", WS, case_protocol_violation, UNIWS_EPROTOCOL, "/script/frame:a1026869",
     "RSV2 set"},
    {"frame_rsv3", "2,7", WS, case_protocol_violation, UNIWS_EPROTOCOL, "/script/frame:91026869",
     "RSV3 set"},
    {"frame_rsv_control", "2,7", WS, case_protocol_violation, UNIWS_EPROTOCOL, "/script/frame:c900",
     "RSV1 on a ping"},
    {"opcodes_reserved_data", "2,7", WS, case_reserved_opcodes, 0, NULL,
     "opcodes 3-7 fail the connection"},
    {"opcodes_reserved_control", "2,7", WS, case_reserved_opcodes, 1, NULL,
     "opcodes 0xB-0xF fail the connection"},
    {"frame_masked_from_server", "2,7", WS, case_protocol_violation, UNIWS_EPROTOCOL,
     "/script/frame:818201020304696b", "a masked frame from the server"},
    {"control_fragmented", "2,7", WS, case_protocol_violation, UNIWS_EPROTOCOL,
     "/script/frame:090170", "a ping without FIN"},
    {"control_too_long", "2,7", WS, case_protocol_violation, UNIWS_EPROTOCOL,
     "/script/frame:897e007e" HEX126, "a 126-byte ping"},
    {"close_too_long", "2,7", WS, case_protocol_violation, UNIWS_EPROTOCOL,
     "/script/frame:887e007e03e8" HEX126, "a close frame over 125 bytes"},
    {"continuation_without_start", "2,7", WS, case_protocol_violation, UNIWS_EPROTOCOL,
     "/script/frame:80026869", "continuation with no message started"},
    {"message_inside_fragmented", "2,7", WS, case_protocol_violation, UNIWS_EPROTOCOL,
     "/script/frame:010168/frame:810169", "a new text inside a fragmented one"},
    {"binary_inside_fragmented", "2,7", WS, case_protocol_violation, UNIWS_EPROTOCOL,
     "/script/frame:020100/frame:820101", "a new binary inside a fragmented one"},
    {"frame_length_msb", "2,7", WS, case_protocol_violation, UNIWS_EPROTOCOL,
     "/script/frame:817f8000000000000001", "64-bit length with the top bit set"},
    {"frame_length_not_minimal", "2,7", WS, case_protocol_violation, UNIWS_EPROTOCOL,
     "/script/frame:817e00026869", "2 bytes in the 16-bit length form"},

    /* ---- size limit (item 7) ---- */
    {"max_size_exceeded", "7", WS, case_max_size, 1000, "/script/textn:1001",
     "1001 bytes with max_message_size 1000"},
    {"max_size_exceeded_fragments", "7", WS, case_max_size, 4096, "/script/fragbin:10:5000",
     "5000 bytes in fragments with max 4096"},
    {"max_size_exact", "7", WS, case_max_size_exact, 0, NULL,
     "exactly max_message_size is delivered"},

    /* ---- UTF-8 (items 5, 7, 8) ---- */
    {"utf8_receive_valid", "7", WS, case_utf8_recv_valid, 0, NULL,
     "multibyte text incl. U+10FFFF received whole"},
    {"utf8_send_valid", "5", WS, case_utf8_send_valid, 0, NULL, "multibyte text sent and echoed"},
    {"utf8_overlong", "7", WS, case_utf8_recv_invalid, 0, "/script/frame:8102c0af",
     "overlong 2-byte form"},
    {"utf8_overlong_3byte", "7", WS, case_utf8_recv_invalid, 0, "/script/frame:8103e080af",
     "overlong 3-byte form"},
    {"utf8_surrogate", "7", WS, case_utf8_recv_invalid, 0, "/script/frame:8103eda080",
     "UTF-16 surrogate U+D800"},
    {"utf8_above_max", "7", WS, case_utf8_recv_invalid, 0, "/script/frame:8104f4908080",
     "code point above U+10FFFF"},
    {"utf8_lone_continuation", "7", WS, case_utf8_recv_invalid, 0, "/script/frame:810180",
     "a lone continuation byte"},
    {"utf8_truncated_end", "7", WS, case_utf8_recv_invalid, 0, "/script/frame:810361e282",
     "text ends inside a character"},
    {"utf8_truncated_fragments", "7", WS, case_utf8_recv_invalid, 0,
     "/script/frame:0101e2/frame:800182", "fragmented text ends inside a character"},
    {"utf8_invalid_later_fragment", "7", WS, case_utf8_recv_invalid, 0,
     "/script/frame:01026869/frame:8002fffe", "invalid bytes in a later fragment"},
    {"utf8_send_invalid", "5", WS, case_utf8_send_invalid, 0, NULL,
     "send_text refuses invalid UTF-8, nothing sent"},
    {"utf8_close_reason_invalid", "7,8", WS, case_utf8_close_reason, 0, "/script/close-hex:03e8ff",
     "close reason that is not UTF-8"},
    {"utf8_close_reason_overlong", "7,8", WS, case_utf8_close_reason, 0,
     "/script/close-hex:03e861c0af", "close reason with an overlong form"},

    /* ---- close codes from the peer (item 8) ---- */
    {"close_code_1000", "8", WS, case_close_code_valid, 1000, NULL, "peer closes with 1000"},
    {"close_code_1001", "8", WS, case_close_code_valid, 1001, NULL, "peer closes with 1001"},
    {"close_code_1002", "8", WS, case_close_code_valid, 1002, NULL, "peer closes with 1002"},
    {"close_code_1003", "8", WS, case_close_code_valid, 1003, NULL, "peer closes with 1003"},
    {"close_code_1007", "8", WS, case_close_code_valid, 1007, NULL, "peer closes with 1007"},
    {"close_code_1008", "8", WS, case_close_code_valid, 1008, NULL, "peer closes with 1008"},
    {"close_code_1009", "8", WS, case_close_code_valid, 1009, NULL, "peer closes with 1009"},
    {"close_code_1010", "8", WS, case_close_code_valid, 1010, NULL, "peer closes with 1010"},
    {"close_code_1011", "8", WS, case_close_code_valid, 1011, NULL, "peer closes with 1011"},
    {"close_code_1012", "8", WS, case_close_code_valid, 1012, NULL, "peer closes with 1012"},
    {"close_code_1013", "8", WS, case_close_code_valid, 1013, NULL, "peer closes with 1013"},
    {"close_code_1014", "8", WS, case_close_code_valid, 1014, NULL, "peer closes with 1014"},
    {"close_code_3000", "8", WS, case_close_code_valid, 3000, NULL, "peer closes with 3000"},
    {"close_code_4999", "8", WS, case_close_code_valid, 4999, NULL, "peer closes with 4999"},
    {"close_code_invalid_0", "7,8", WS, case_close_code_invalid, 0, "/script/close:0",
     "peer sends code 0"},
    {"close_code_invalid_999", "7,8", WS, case_close_code_invalid, 0, "/script/close:999",
     "peer sends code 999"},
    {"close_code_invalid_1004", "7,8", WS, case_close_code_invalid, 0, "/script/close:1004",
     "peer sends reserved 1004"},
    {"close_code_invalid_1005", "7,8", WS, case_close_code_invalid, 0, "/script/close:1005",
     "peer sends 1005 on the wire"},
    {"close_code_invalid_1006", "7,8", WS, case_close_code_invalid, 0, "/script/close:1006",
     "peer sends 1006 on the wire"},
    {"close_code_invalid_1015", "7,8", WS, case_close_code_invalid, 0, "/script/close:1015",
     "peer sends 1015 on the wire"},
    {"close_code_invalid_1016", "7,8", WS, case_close_code_invalid, 0, "/script/close:1016",
     "peer sends unassigned 1016"},
    {"close_code_invalid_2999", "7,8", WS, case_close_code_invalid, 0, "/script/close:2999",
     "peer sends 2999"},
    {"close_code_invalid_5000", "7,8", WS, case_close_code_invalid, 0, "/script/close:5000",
     "peer sends 5000"},
    {"close_code_invalid_65535", "7,8", WS, case_close_code_invalid, 0, "/script/close:65535",
     "peer sends 65535"},
    {"close_payload_1_byte", "7,8", WS, case_close_code_invalid, 0, "/script/close-hex:03",
     "close payload of 1 byte"},
    {"close_1005_empty", "8", WS, case_close_1005, 0, NULL, "empty close frame gives 1005"},
    {"close_reason_123_from_peer", "8", WS, case_close_reason_123_from_peer, 0, NULL,
     "123-byte multibyte reason arrives whole"},
    {"close_1006_fin", "8", WS, case_close_tcp_end, 0, "/script/fin",
     "TCP FIN without a close frame gives 1006"},
    {"close_1006_fin_after_text", "8", WS, case_close_tcp_end, 1, "/script/text:a/fin",
     "a message, then FIN: message kept, 1006"},
    {"close_1006_rst_midframe", "8", WS, case_close_tcp_end, 0, "/script/frame:8105616263/rst",
     "TCP reset in the middle of a frame"},
    {"close_1006_fin_midheader", "8", WS, case_close_tcp_end, 0, "/script/frame:817e/fin",
     "FIN in the middle of a frame header"},
    {"close_no_reply_500ms", "6,8", WS, case_close_no_reply, 500, "/script/no-close-reply",
     "peer never answers close: gives up after close_timeout"},
    {"close_hold_500ms", "6,8", WS, case_close_no_reply, 500, "/script/hold",
     "peer ignores everything: gives up after close_timeout"},
    {"close_no_reply_default", "6,8", WS, case_close_no_reply, 0, "/script/no-close-reply",
     "the default close timeout applies"},
    {"data_after_close_dropped", "2,7", WS, case_data_after_close, 0, NULL,
     "data after the peer's close frame is dropped"},

    /* ---- uniws_close() and send around closing (items 5, 6) ---- */
    {"client_close_1000_reason", "6,8", WS, case_client_close, 1000, "bye",
     "close(1000, \"bye\") is echoed, clean"},
    {"client_close_no_code", "6,8", WS, case_client_close, 0, NULL,
     "close without a code gives 1005"},
    {"client_close_3000", "6,8", WS, case_client_close, 3000, NULL, "close(3000)"},
    {"client_close_4999", "6,8", WS, case_client_close, 4999, "\xc3\xa9t\xc3\xa9",
     "close(4999) with a UTF-8 reason"},
    {"close_invalid_codes", "6", WS, case_close_invalid_codes, 0, NULL,
     "999, 1001, 1005, 1006, 2999, 5000, ... give EINVALID_ACCESS"},
    {"close_reason_124", "6", WS, case_close_reason_limits, 124, NULL,
     "124-byte reason gives ESYNTAX"},
    {"close_reason_124_multibyte", "6", WS, case_close_reason_limits, 1241, NULL,
     "124 bytes of 2-byte characters give ESYNTAX"},
    {"close_reason_123", "6", WS, case_close_reason_limits, 123, NULL,
     "123-byte reason is accepted and sent"},
    {"close_reason_invalid_utf8", "6", WS, case_close_reason_limits, 1, NULL,
     "non-UTF-8 reason gives ESYNTAX"},
    {"close_reason_without_code", "6", WS, case_close_reason_limits, 2, NULL,
     "reason without a code gives ESYNTAX"},
    {"close_twice", "6", WS, case_close_twice, 0, NULL, "second close is a no-op"},
    {"close_while_connecting", "1,6", WS, case_close_connecting, 0, NULL,
     "close while CONNECTING: error, close 1006, no open"},
    {"close_flushes_queue", "6", WS, case_close_flushes_queue, 10, NULL,
     "100 queued messages are sent before the close"},
    {"close_flushes_queue_large", "6", WS, case_close_flushes_queue, 10000, NULL,
     "100 queued 10 kB messages are sent before the close"},
    {"send_after_close", "5", WS, case_send_after_close, 0, NULL,
     "send after close gives ECLOSED, nothing sent"},
    {"send_while_connecting", "5", WS, case_send_connecting, 0, NULL,
     "send while CONNECTING gives EINVALID_STATE"},

    /* ---- handshake (item 12) ---- */
    {"handshake_status_200", "12", WS, case_hs_status, 200, NULL, "200 instead of 101"},
    {"handshake_status_301", "12", WS, case_hs_status, 301, NULL, "a redirect is not followed"},
    {"handshake_status_401", "12", WS, case_hs_status, 401, NULL, "401"},
    {"handshake_status_403", "12", WS, case_hs_status, 403, NULL, "403"},
    {"handshake_status_500", "12", WS, case_hs_status, 500, NULL, "500"},
    {"handshake_bad_accept", "12", WS, case_hs_fails, 0, "/script/bad-accept",
     "wrong Sec-WebSocket-Accept"},
    {"handshake_no_upgrade", "12", WS, case_hs_fails, 0, "/script/no-upgrade", "no Upgrade header"},
    {"handshake_unoffered_protocol", "12", WS, case_hs_fails, 1, "/script/proto:other",
     "a subprotocol the client did not offer"},
    {"handshake_protocol_none_offered", "12", WS, case_hs_fails, 0, "/script/proto:chat",
     "a subprotocol when none was offered"},
    {"handshake_unoffered_extension", "12", WS, case_hs_fails, 0, "/script/ext:x-unknown",
     "an extension the client did not offer"},
    {"handshake_unoffered_deflate", "12", WS, case_hs_unoffered_deflate, 0, NULL,
     "permessage-deflate when not offered"},
    {"handshake_timeout", "12,13", WS | UNIWS_CAP_CONNECT_TIMEOUT, case_hs_timeout, 500, NULL,
     "silent server + connect_timeout_ms gives ETIMEOUT"},
    {"connection_refused", "2,12", NET, case_refused, 0, NULL, "closed port: EREFUSED, close 1006"},
    {"dns_failure", "2,12", NET, case_dns_failure, 0, NULL, "a .invalid name: EDNS, close 1006"},

    /* ---- subprotocols, extensions, headers, options (items 10, 11, 13) ---- */
    {"protocol_first_offered", "10", WS, case_protocol_selected, 0, NULL,
     "peer picks the first offered"},
    {"protocol_second_offered", "10", WS, case_protocol_selected, 1, NULL,
     "peer picks another offered one"},
    {"protocol_none", "10", WS, case_protocol_selected, 2, NULL, "no offer, protocol \"\""},
    {"protocol_not_selected", "10", WS, case_protocol_selected, 3, NULL,
     "offered but none selected fails (WHATWG)"},
    {"protocol_tokens", "11", WS, case_protocol_tokens, 0, NULL,
     "duplicate or invalid tokens give ESYNTAX"},
    {"protocol_tokens_case", "11", WS, case_protocol_tokens, 1, NULL,
     "subprotocols differing only in case are duplicates (ESYNTAX)"},
    {"extensions_empty", "10", WS, case_extensions_empty, 0, NULL, "no extensions by default"},
    {"custom_headers_sent", "13", WS | UNIWS_CAP_CUSTOM_HEADERS, case_headers_sent, 0, NULL,
     "custom headers reach the server"},
    {"custom_headers_invalid", "13", WS | UNIWS_CAP_CUSTOM_HEADERS, case_headers_invalid, 0, NULL,
     "bad or reserved headers give ESYNTAX"},
    {"options_unsupported", "13", WS, case_options_unsupported, 0, NULL,
     "options the backend cannot honour give EUNSUPPORTED"},

    /* ---- URLs (items 10, 11) ---- */
    {"url_bad_scheme", "11", WS, case_url_bad, 0,
     "ftp://127.0.0.1/|file:///etc/passwd|mailto:a@b.c|wsx://127.0.0.1/|127.0.0.1:80/echo|echo|"
     "<empty>",
     "other schemes give ESYNTAX"},
    {"url_bad_port", "11", WS, case_url_bad, 0,
     "ws://127.0.0.1:0/|ws://127.0.0.1:99999/|ws://127.0.0.1:65536/|ws://127.0.0.1:-1/|"
     "ws://127.0.0.1:abc/|ws://127.0.0.1:8a/",
     "port 0, > 65535 or not a number"},
    {"url_bad_host", "11", WS, case_url_bad, 0,
     "ws://[::1|ws://[::1/|ws://[zz::1]/|ws://|ws://:80/|ws://exa mple.com/", "malformed hosts"},
    {"url_fragment", "11", WS, case_url_bad, 0,
     "ws://127.0.0.1/#frag|ws://127.0.0.1/path#|ws://127.0.0.1/?q=1#x", "fragments"},
    {"url_userinfo", "11", WS, case_url_bad, 0, "ws://user@127.0.0.1/|ws://user:pw@127.0.0.1/",
     "user info"},
    {"url_normalised", "10,11", WS, case_url_normalised, 0, NULL,
     "scheme/host lower-cased, default port dropped, path /"},
    {"url_http_is_ws", "11", WS, case_url_http_maps, 0, NULL, "http:// connects as ws://"},
    {"url_https_is_wss", "11", UNIWS_CAP_WSS, case_url_http_maps, 1, NULL,
     "https:// connects as wss://"},

    /* ---- API surface (items 1, 3, 10, 13, 14) ---- */
    {"connect_arguments", "14", WS, case_connect_args, 0, NULL,
     "NULL arguments and unknown backends refused"},
    {"backend_choice", "13", WS, case_backend_choice, 0, NULL,
     "option > UNIWS_BACKEND > default; unknown names fail"},
    {"ready_state_transitions", "1", WS, case_ready_states, 0, NULL,
     "CONNECTING, OPEN, CLOSING, CLOSED; failure skips OPEN"},
    {"attributes", "10", WS, case_attributes, 0, NULL,
     "backend name, caps, user_data, protocol, extensions"},
    {"error_table", "14", WS, case_error_table, 0, NULL, "names and texts for every code"},
    {"loop_run_returns", "3", WS, case_loop_run_returns, 0, NULL,
     "loop_run returns after the last close"},
    {"loop_stop_from_thread", "3,4", WS | CONF_CAP_THREADS, case_loop_stop, 0, NULL,
     "loop_stop from another thread makes loop_run return"},
    {"loop_stop_in_callback", "3", WS, case_loop_stop, 1, NULL,
     "loop_stop inside on_open makes loop_run return"},
    {"loop_free_busy", "3", WS, case_loop_free_busy, 0, NULL,
     "loop_free with live sockets gives EBUSY"},

    /* ---- events and threads (items 2, 3, 4) ---- */
    {"event_order", "2", WS, case_event_order, 0, NULL, "open, messages, one close, then nothing"},
    {"free_in_on_open", "2", WS, case_free_in_callback, EV_OPEN, NULL,
     "free inside on_open: no more events"},
    {"free_in_on_message", "2", WS, case_free_in_callback, EV_MESSAGE, NULL,
     "free inside on_message: no more events"},
    {"free_in_on_error", "2", WS, case_free_in_callback, EV_ERROR, NULL,
     "free inside on_error: no close event"},
    {"free_in_on_close", "2", WS, case_free_in_callback, EV_CLOSE, NULL, "free inside on_close"},
    {"free_while_connecting", "2", WS, case_free_while_connecting, 0, NULL,
     "free while CONNECTING: no events"},
    {"free_while_open", "2", WS, case_free_open_outside, 0, NULL, "free an open socket: no events"},
    {"send_from_thread", "3,4", WS | CONF_CAP_THREADS, case_send_from_thread, 2000, NULL,
     "2000 sends from another thread all arrive"},
    {"close_from_thread", "3,4", WS | CONF_CAP_THREADS, case_close_from_thread, 0, NULL,
     "send and close from another thread"},

    /* ---- on the wire, seen by a raw peer (items 7, 9) ---- */
    {"wire_utf8_invalid_1007", "7", WIRE_CODE, case_wire_fail_code, 1007, "8102c0af",
     "invalid UTF-8 text: the client sends close 1007"},
    {"wire_utf8_fragment_1007", "7", WIRE_CODE, case_wire_fail_code, 1007, "010268698002fffe",
     "invalid UTF-8 in a later fragment: close 1007"},
    {"wire_close_reason_1007", "7,8", WIRE_CODE, case_wire_fail_code, 1007, "880403e861ff",
     "invalid UTF-8 close reason: close 1007"},
    {"wire_too_big_1009", "7", WIRE_CODE, case_wire_too_big, 0, NULL,
     "over max_message_size: the client sends close 1009"},
    {"wire_rsv_1002", "7", WIRE_CODE, case_wire_fail_code, 1002, "c1026869",
     "RSV1 set: the client sends close 1002"},
    {"wire_opcode_1002", "7", WIRE_CODE, case_wire_fail_code, 1002, "830161",
     "reserved opcode: the client sends close 1002"},
    {"wire_masked_1002", "7", WIRE_CODE, case_wire_fail_code, 1002, "818201020304696b",
     "masked server frame: the client sends close 1002"},
    {"wire_bad_close_code_1002", "7,8", WIRE_CODE, case_wire_fail_code, 1002, "880203e7",
     "close code 999 from the peer: the client sends close 1002"},
    {"wire_pong_payload", "9", NET, case_wire_pong, 0, "hello pong",
     "a ping is answered with a pong carrying its payload"},
    {"wire_pong_empty", "9", NET, case_wire_pong, 0, "", "an empty ping gets an empty pong"},
    {"wire_pingflood_100", "9", NET, case_wire_pong, 100, NULL,
     "100 pings: the last is answered with its payload"},
    {"wire_client_frames", "5,6", NET, case_wire_client_frames, 0, NULL,
     "client frames are masked; close carries code and reason"},

    /* ---- TLS (items 11, 13) ---- */
    {"wss_custom_ca", "11,13", UNIWS_CAP_WSS, case_wss_echo, 0, NULL, "wss with the test CA"},
    {"wss_skip_verify", "11,13", UNIWS_CAP_WSS | UNIWS_CAP_TLS_SKIP_VERIFY, case_wss_echo, 1, NULL,
     "wss with tls_skip_verify"},
    {"wss_bytewise", "11", UNIWS_CAP_WSS, case_wss_echo, 2, NULL, "wss with one-byte TLS writes"},
    {"wss_verify_default", "11,13", UNIWS_CAP_WSS, case_wss_verify_fails, 0, NULL,
     "verification is on by default: unknown CA gives ETLS"},
    {"wss_wrong_ca", "11,13", WSS_CA, case_wss_verify_fails, 1, NULL, "an unrelated CA gives ETLS"},
    {"wss_close", "8,11", UNIWS_CAP_WSS, case_wss_close, 0, NULL, "close handshake over TLS"},

    /* ---- hostile peers: exact error and bounded peak RSS (reliability, issue 12) ---- */
    {"hostile_ping_flood", "9,10", WS, case_hostile_ping_flood, 0, NULL,
     "200k pings: all answered, buffered_amount 0, RSS bounded"},
    {"hostile_pong_never_read", "9,10", WS, case_hostile_pong_never_read, 0, NULL,
     "1M pings from a peer that does not read: pongs coalesce, RSS bounded"},
    {"hostile_endless_headers", "12", WS, case_hostile_endless_headers, 0, NULL,
     "20k header lines in the 101: EHANDSHAKE, RSS bounded"},
    {"hostile_huge_header_line", "12", WS, case_hostile_huge_header_line, 0, NULL,
     "one 1 MiB header line in the 101: EHANDSHAKE, RSS bounded"},
    {"hostile_trickled_header", "7", WS, case_hostile_trickled_header, 0, NULL,
     "a frame header one byte at a time with pauses"},
    {"hostile_trickled_60mib", "7", WS, case_hostile_trickled_60mib, 0, NULL,
     "60 MiB frame header, 2 MiB trickled, then FIN: ERESET, RSS bounded"},
    {"hostile_deflate_bomb", "7", WS | UNIWS_CAP_PERMESSAGE_DEFLATE | UNIWS_CAP_RAW_FRAMES,
     case_hostile_deflate_bomb, 0, NULL, "64 MiB deflate bomb vs a 1 MiB limit: ETOO_BIG"},
    {"hostile_fragment_flood", "7", WS, case_hostile_fragment_flood, 0, NULL,
     "1M fragments past max_message_size: ETOO_BIG, RSS bounded"},
    {"hostile_empty_fragments", "7", WS, case_hostile_empty_fragments, 0, NULL,
     "1M empty fragments make one empty message, RSS bounded"},
    {"hostile_len_2e63", "7", WS, case_hostile_len_2e63, 0, NULL,
     "64-bit length with the top bit set: EPROTOCOL"},
    {"hostile_len_2e63_minus_1", "7", WS, case_hostile_len_2e63, 1, NULL,
     "length 2^63-1: ETOO_BIG, nothing reserved"},
    {"hostile_slowloris", "12", WS | UNIWS_CAP_CONNECT_TIMEOUT, case_hostile_slowloris, 0, NULL,
     "101 trickled a byte per 200 ms: ETIMEOUT at connect_timeout_ms"},
    {"hostile_never_reads", "6,10", WS, case_hostile_never_reads, 0, NULL,
     "16 MiB sent to a peer that reads nothing: counted, close times out"},
    {"request_header_limit", "11,13", WS | UNIWS_CAP_CUSTOM_HEADERS, case_request_header_limit, 0,
     NULL, "a header at UNIWS_MAX_REQUEST_HEADER_BYTES reaches the server whole"},
    {"request_header_refused", "11", WS, case_request_header_refused, 0, NULL,
     "past the limit: ETOO_BIG; control characters in a value: ESYNTAX"},

    /* ---- the TLS matrix: ETLS on every backend, a message naming why (reliability) ---- */
    {"tls_good", "11,13", WSS_CA, case_tls_good, 0, NULL, "good certificate: echo over wss"},
    {"tls_expired", "11,13", WSS_CA, case_tls_expired, 0, NULL,
     "expired certificate: ETLS naming expiry"},
    {"tls_wrong_host_ip", "11,13", WSS_CA, case_tls_wrong_host, 0, NULL,
     "certificate for other names, reached by IP: ETLS naming the mismatch"},
    {"tls_wrong_host_name", "11,13", WSS_CA, case_tls_wrong_host, 1, NULL,
     "certificate for other names, reached as localhost: ETLS naming the mismatch"},
    {"tls_self_signed", "11,13", WSS_CA, case_tls_self_signed, 0, NULL,
     "self-signed certificate, test CA given: ETLS naming self-signed"},
    {"tls_self_signed_default", "11,13", UNIWS_CAP_WSS, case_tls_self_signed, 1, NULL,
     "self-signed certificate, system store: ETLS naming self-signed"},
    {"tls_unrelated_ca", "11,13", WSS_CA, case_tls_unrelated_ca, 0, NULL,
     "certificate from another CA: ETLS naming the issuer"},
    {"tls_client_cert_given", "11,13", WSS_CA | UNIWS_CAP_TLS_CLIENT_CERT, case_tls_client_cert, 0,
     NULL, "server requires a client certificate, given: echo"},
    {"tls_client_cert_missing", "11,13", WSS_CA | UNIWS_CAP_TLS_CLIENT_CERT, case_tls_client_cert,
     1, NULL, "server requires a client certificate, none given: ETLS"},
    {"tls_client_key_mismatch", "11,13", WSS_CA | UNIWS_CAP_TLS_CLIENT_CERT, case_tls_client_cert,
     2, NULL, "client certificate with a key that does not match: ETLS naming the key"},

    /* ---- cli (issue 14): proxy options ---- */
    {"proxy_ca_file_option", "13", 0, case_proxy_ca_file_option, 0, NULL,
     "proxy_ca_file: honoured with UNIWS_CAP_PROXY_CA_FILE, else UNIWS_EUNSUPPORTED"},
};

const size_t conf_case_count = sizeof conf_cases / sizeof conf_cases[0];

const char *conf_cap_name(unsigned bit)
{
    switch (bit) {
    case UNIWS_CAP_WS:
        return "UNIWS_CAP_WS";
    case UNIWS_CAP_WSS:
        return "UNIWS_CAP_WSS";
    case UNIWS_CAP_CUSTOM_HEADERS:
        return "UNIWS_CAP_CUSTOM_HEADERS";
    case UNIWS_CAP_PROXY:
        return "UNIWS_CAP_PROXY";
    case UNIWS_CAP_TLS_CA_FILE:
        return "UNIWS_CAP_TLS_CA_FILE";
    case UNIWS_CAP_TLS_SKIP_VERIFY:
        return "UNIWS_CAP_TLS_SKIP_VERIFY";
    case UNIWS_CAP_TLS_CLIENT_CERT:
        return "UNIWS_CAP_TLS_CLIENT_CERT";
    case UNIWS_CAP_PERMESSAGE_DEFLATE:
        return "UNIWS_CAP_PERMESSAGE_DEFLATE";
    case UNIWS_CAP_PING:
        return "UNIWS_CAP_PING";
    case UNIWS_CAP_CONNECT_TIMEOUT:
        return "UNIWS_CAP_CONNECT_TIMEOUT";
    case UNIWS_CAP_ANY_CLOSE_CODE:
        return "UNIWS_CAP_ANY_CLOSE_CODE";
    case UNIWS_CAP_NETWORK:
        return "UNIWS_CAP_NETWORK";
    case UNIWS_CAP_RAW_FRAMES:
        return "UNIWS_CAP_RAW_FRAMES";
    case UNIWS_CAP_PROXY_CA_FILE:
        return "UNIWS_CAP_PROXY_CA_FILE";
    case CONF_CAP_THREADS:
        return "threads";
    }
    return "UNIWS_CAP_?";
}
