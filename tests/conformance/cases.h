/*
 * cases.h — the shape of the one list of conformance cases (cases.c), the
 * case functions it points at (cases_*.c, one file per concern) and the
 * explicit table of known backend limitations (limitations.c).
 */
#ifndef UNIWS_CONFORMANCE_CASES_H
#define UNIWS_CONFORMANCE_CASES_H

#include <stddef.h>
#include "harness.h"

typedef void (*conf_fn)(cx *c, const conf_case *k);

/* A pseudo-capability of the test program rather than of a backend: the case
 * starts threads of its own. A WebAssembly build without -pthread has none
 * (pthread_create always fails there), so such cases are unsupported. */
#define CONF_CAP_THREADS (1u << 30)

struct conf_case {
    const char *name; /* unique, [a-z0-9_] */
    const char *item; /* docs/contract.md rule(s), e.g. "7" or "2,8" */
    unsigned caps;    /* UNIWS_CAP_* bits (or CONF_CAP_THREADS) it needs; missing: unsupported */
    conf_fn fn;
    long arg;         /* parameter of a shared case function */
    const char *sarg; /* string parameter (e.g. a script path) */
    const char *what; /* one line for people */
};

extern const conf_case conf_cases[];
extern const size_t conf_case_count;

/* A known bug of the library under a backend that uniws cannot absorb. */
typedef struct conf_limitation {
    const char *backend;
    const char *case_name;
    const char *version; /* the library version it was seen with */
    const char *reason;
} conf_limitation;

/* The entry for (backend, case) that applies to this library version, or NULL. */
const conf_limitation *conf_limitation_find(const char *backend, const char *version,
                                            const char *case_name);

/* Name of one UNIWS_CAP_* bit, e.g. "UNIWS_CAP_PING" ("threads" for
 * CONF_CAP_THREADS). */
const char *conf_cap_name(unsigned bit);

/* What this run offers the cases: the backend's UNIWS_CAP_* bits, plus
 * CONF_CAP_THREADS where the program can start threads. */
unsigned conf_caps(const conf_env *env);

/* ---- case functions, by file ------------------------------------------- */

/* cases_echo.c: arg = size, sarg unused; type from the function */
void case_echo_text(cx *c, const conf_case *k);
void case_echo_binary(cx *c, const conf_case *k);
void case_server_sizes(cx *c, const conf_case *k);
void case_echo_order(cx *c, const conf_case *k);
void case_types_preserved(cx *c, const conf_case *k);
void case_send_copies(cx *c, const conf_case *k);
void case_text_embedded_nul(cx *c, const conf_case *k);
void case_buffered_amount(cx *c, const conf_case *k);
void case_many_sockets(cx *c, const conf_case *k);
void case_same_segment(cx *c, const conf_case *k);
void case_bytewise(cx *c, const conf_case *k);

/* cases_frames.c */
void case_frag_text(cx *c, const conf_case *k);
void case_frag_binary(cx *c, const conf_case *k);
void case_frag_ping_interleaved(cx *c, const conf_case *k);
void case_frag_utf8_split(cx *c, const conf_case *k);
void case_protocol_violation(cx *c, const conf_case *k);
void case_reserved_opcodes(cx *c, const conf_case *k);
void case_ping_auto(cx *c, const conf_case *k);
void case_mask_per_frame(cx *c, const conf_case *k);
void case_pingflood(cx *c, const conf_case *k);
void case_unsolicited_pong(cx *c, const conf_case *k);
void case_max_size(cx *c, const conf_case *k);
void case_max_size_exact(cx *c, const conf_case *k);
void case_data_after_close(cx *c, const conf_case *k);
void case_ping_api(cx *c, const conf_case *k);
void case_pong_during_large_send(cx *c, const conf_case *k);

/* cases_utf8.c */
void case_utf8_recv_valid(cx *c, const conf_case *k);
void case_utf8_send_valid(cx *c, const conf_case *k);
void case_utf8_recv_invalid(cx *c, const conf_case *k);
void case_utf8_big_multibyte(cx *c, const conf_case *k);
void case_utf8_send_invalid(cx *c, const conf_case *k);
void case_utf8_close_reason(cx *c, const conf_case *k);

/* cases_close.c */
void case_close_code_valid(cx *c, const conf_case *k);
void case_close_code_invalid(cx *c, const conf_case *k);
void case_close_1005(cx *c, const conf_case *k);
void case_close_reason_123_from_peer(cx *c, const conf_case *k);
void case_close_tcp_end(cx *c, const conf_case *k);
void case_close_no_reply(cx *c, const conf_case *k);
void case_client_close(cx *c, const conf_case *k);
void case_close_invalid_codes(cx *c, const conf_case *k);
void case_close_reason_limits(cx *c, const conf_case *k);
void case_close_twice(cx *c, const conf_case *k);
void case_close_connecting(cx *c, const conf_case *k);
void case_close_flushes_queue(cx *c, const conf_case *k);
void case_send_after_close(cx *c, const conf_case *k);
void case_send_connecting(cx *c, const conf_case *k);

/* cases_handshake.c */
void case_hs_status(cx *c, const conf_case *k);
void case_hs_fails(cx *c, const conf_case *k);
void case_hs_unoffered_deflate(cx *c, const conf_case *k);
void case_hs_timeout(cx *c, const conf_case *k);
void case_refused(cx *c, const conf_case *k);
void case_dns_failure(cx *c, const conf_case *k);
void case_protocol_selected(cx *c, const conf_case *k);
void case_protocol_tokens(cx *c, const conf_case *k);
void case_extensions_empty(cx *c, const conf_case *k);
void case_headers_sent(cx *c, const conf_case *k);
void case_headers_invalid(cx *c, const conf_case *k);
void case_options_unsupported(cx *c, const conf_case *k);

/* cases_api.c */
void case_url_bad(cx *c, const conf_case *k);
void case_url_normalised(cx *c, const conf_case *k);
void case_url_http_maps(cx *c, const conf_case *k);
void case_connect_args(cx *c, const conf_case *k);
void case_backend_choice(cx *c, const conf_case *k);
void case_ready_states(cx *c, const conf_case *k);
void case_attributes(cx *c, const conf_case *k);
void case_error_table(cx *c, const conf_case *k);
void case_loop_run_returns(cx *c, const conf_case *k);
void case_loop_stop(cx *c, const conf_case *k);
void case_loop_free_busy(cx *c, const conf_case *k);

/* cases_events.c */
void case_event_order(cx *c, const conf_case *k);
void case_free_in_callback(cx *c, const conf_case *k);
void case_free_while_connecting(cx *c, const conf_case *k);
void case_free_open_outside(cx *c, const conf_case *k);
void case_send_from_thread(cx *c, const conf_case *k);
void case_close_from_thread(cx *c, const conf_case *k);

/* cases_wire.c */
void case_wire_fail_code(cx *c, const conf_case *k);
void case_wire_too_big(cx *c, const conf_case *k);
void case_wire_pong(cx *c, const conf_case *k);
void case_wire_client_frames(cx *c, const conf_case *k);

/* cases_tls.c */
void case_both_ways_full(cx *c, const conf_case *k);
void case_wss_echo(cx *c, const conf_case *k);
void case_wss_verify_fails(cx *c, const conf_case *k);
void case_wss_close(cx *c, const conf_case *k);
void case_wss_tcp_end(cx *c, const conf_case *k);
void case_wss_broken_midstream(cx *c, const conf_case *k);

/* cases_hostile.c (reliability, issue 12): hostile peers, exact errors, peak RSS */
void case_hostile_ping_flood(cx *c, const conf_case *k);
void case_hostile_pong_never_read(cx *c, const conf_case *k);
void case_hostile_endless_headers(cx *c, const conf_case *k);
void case_hostile_huge_header_line(cx *c, const conf_case *k);
void case_hostile_trickled_header(cx *c, const conf_case *k);
void case_hostile_trickled_60mib(cx *c, const conf_case *k);
void case_hostile_deflate_bomb(cx *c, const conf_case *k);
void case_hostile_fragment_flood(cx *c, const conf_case *k);
void case_hostile_empty_fragments(cx *c, const conf_case *k);
void case_hostile_len_2e63(cx *c, const conf_case *k);
void case_hostile_slowloris(cx *c, const conf_case *k);
void case_hostile_never_reads(cx *c, const conf_case *k);
/* cases_limits.c (reliability, issue 12): the request-size limit, header syntax */
void case_request_header_limit(cx *c, const conf_case *k);
void case_request_header_refused(cx *c, const conf_case *k);
/* cases_tls_matrix.c (reliability, issue 12): the TLS matrix */
void case_tls_good(cx *c, const conf_case *k);
void case_tls_expired(cx *c, const conf_case *k);
void case_tls_wrong_host(cx *c, const conf_case *k);
void case_tls_self_signed(cx *c, const conf_case *k);
void case_tls_unrelated_ca(cx *c, const conf_case *k);
void case_tls_client_cert(cx *c, const conf_case *k);
/* cases_flow.c: flow control (docs/api.md "Flow control") */
void case_flow_max_buffered(cx *c, const conf_case *k);
void case_flow_low_event(cx *c, const conf_case *k);
void case_flow_send_fragments(cx *c, const conf_case *k);
void case_flow_fragments_echo(cx *c, const conf_case *k);
void case_flow_fragments_capability(cx *c, const conf_case *k);
void case_flow_recv_parts(cx *c, const conf_case *k);
void case_flow_recv_parts_invalid(cx *c, const conf_case *k);
void case_flow_frame_size(cx *c, const conf_case *k);
/* cases_proxy.c (cli, issue 14): proxy_ca_file honoured or refused, never ignored */
void case_proxy_ca_file_option(cx *c, const conf_case *k);

/* cases_lifecycle.c (issue 10) */
void case_life_cause_clean(cx *c, const conf_case *k);
void case_life_cause_error(cx *c, const conf_case *k);
void case_life_idle_timeout(cx *c, const conf_case *k);
void case_life_idle_reset(cx *c, const conf_case *k);
void case_life_idle_off(cx *c, const conf_case *k);
void case_life_ping_needs_cap(cx *c, const conf_case *k);
void case_life_heartbeat(cx *c, const conf_case *k);
void case_life_heartbeat_busy(cx *c, const conf_case *k);
void case_life_heartbeat_dead_peer(cx *c, const conf_case *k);
void case_life_heartbeat_alive(cx *c, const conf_case *k);
void case_life_pong_event(cx *c, const conf_case *k);
void case_life_stats(cx *c, const conf_case *k);
void case_life_reconnect_gives_up(cx *c, const conf_case *k);
void case_life_reconnect_not_4xx(cx *c, const conf_case *k);
void case_life_reconnect_after_drop(cx *c, const conf_case *k);
void case_life_reconnect_server_close(cx *c, const conf_case *k);
void case_life_reconnect_not_normal(cx *c, const conf_case *k);
void case_life_reconnect_close_waiting(cx *c, const conf_case *k);
void case_life_reconnect_invalid(cx *c, const conf_case *k);
void case_life_hs_headers(cx *c, const conf_case *k);
void case_life_hs_headers_cap(cx *c, const conf_case *k);
void case_life_hs_refused(cx *c, const conf_case *k);
void case_life_hs_redirect(cx *c, const conf_case *k);
void case_life_stats_deflate(cx *c, const conf_case *k);
void case_life_reconnect_refused(cx *c, const conf_case *k);
void case_life_reconnect_drop_after(cx *c, const conf_case *k);
void case_life_rtt_late_pong(cx *c, const conf_case *k);
void case_life_idle_late_pongs_alive(cx *c, const conf_case *k);
void case_life_idle_late_pongs_dead(cx *c, const conf_case *k);
void case_life_redirect_followed(cx *c, const conf_case *k);
void case_life_redirect_limit(cx *c, const conf_case *k);
void case_life_redirect_scheme(cx *c, const conf_case *k);
void case_life_redirect_downgrade(cx *c, const conf_case *k);
void case_life_redirect_needs_cap(cx *c, const conf_case *k);
void case_life_stats_timings(cx *c, const conf_case *k);

#endif
