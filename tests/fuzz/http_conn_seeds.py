#!/usr/bin/python3
"""http_conn_seeds.py [OUT_DIR] - writes the seed corpus of tests/fuzz/fuzz_http_conn.c
(default: tests/fuzz/corpus/fuzz_http_conn/, which is checked in): request streams that
reach every part of the connection state machine, and the reproducers of issue 14's
HTTP defects. Each file is <config byte><seed byte><stream>; see the target's header for
the bits. Deterministic: running it again rewrites the same files."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# config byte (byte 0)
HDR_256, HDR_96, HDR_1K = 1, 2, 3
BODY_64, BODY_1K, BODY_0 = 1 << 2, 2 << 2, 3 << 2
PIPE_2 = 1 << 4
BUDGET_1, BUDGET_300, BUDGET_70K = 1 << 5, 2 << 5, 3 << 5
ABRUPT = 1 << 7
# seed byte (byte 1): bits 0-4 the split seed
DRAIN, OVER_FD, TWO = 1 << 5, 1 << 6, 1 << 7


def get(path, extra=b"", version=b"1.1"):
    return b"GET " + path + b" HTTP/" + version + b"\r\nHost: x\r\n" + extra + b"\r\n"


def post(path, body, extra=b""):
    return (b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n" % len(body)
            + extra + b"\r\n" + body)


def chunked(path, chunks, trailer=b"", ext=b""):
    out = b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    for c in chunks:
        out += b"%x" % len(c) + ext + b"\r\n" + c + b"\r\n"
    return out + b"0\r\n" + trailer + b"\r\n"


SEEDS = {
    # the basics
    "get_now": (0, 1, get(b"/e")),
    "pipelined_mixed": (0, 2, get(b"/e") + post(b"/d/1?q=2", b"abc") + get(b"/nope")
                        + get(b"/only-get", b"") + post(b"/only-get", b"x") + get(b"/b")),
    "deferred_out_of_order": (0, 3, b"".join(get(b"/d/%d" % i) for i in range(20))),
    "head_and_methods": (0, 4, b"HEAD /e HTTP/1.1\r\nHost: x\r\n\r\n"
                         b"PUT /e/x HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi"
                         b"DELETE /d HTTP/1.1\r\n\r\n" + get(b"/e")),
    "http10_keepalive_then_close": (0, 5, get(b"/e", b"Connection: keep-alive\r\n", b"1.0")
                                    + get(b"/e", b"", b"1.0") + get(b"/e")),
    "connection_close_midway": (0, 6, get(b"/d") + get(b"/e", b"Connection: close\r\n")
                                + get(b"/e")),
    "expect_continue": (0, 7, post(b"/e", b"data", b"Expect: 100-continue\r\n") + get(b"/e")),
    "chunked_trailer": (0, 8, chunked(b"/e", [b"hello", b" world"], b"X-T: 1\r\n")
                        + get(b"/e")),
    "upgrade": (0, 9, get(b"/e", b"Connection: upgrade\r\nUpgrade: h2c\r\n") + get(b"/e")),
    "percent_params": (0, 10, get(b"/e/a%20b?x=%2F#frag") + get(b"/d/%ZZ")),
    # limits
    "header_limit": (HDR_96, 11, get(b"/e", b"X-Long: " + b"a" * 120 + b"\r\n") + get(b"/e")),
    "header_limit_near": (HDR_96, 12, get(b"/e", b"X: " + b"b" * 50 + b"\r\n")),
    "too_many_headers": (0, 13, get(b"/e", b"".join(b"H%d: v\r\n" % i for i in range(110)))),
    "body_limit_cl": (BODY_64, 14, post(b"/e", b"x" * 65)),
    "body_limit_chunked": (BODY_64, 15, chunked(b"/e", [b"x" * 40, b"y" * 40])),
    "body_zero_limit": (BODY_0, 16, post(b"/e", b"") + post(b"/e", b"z")),
    "pipeline_pause": (PIPE_2, 17, b"".join(get(b"/d/%d" % i) for i in range(9))
                       + post(b"/e", b"after")),
    # the buffer budget: big bodies on two connections, a tiny budget, big answers
    "budget_bodies_two_conns": (BUDGET_1, 18 | TWO, post(b"/e", b"q" * 3000)
                                + post(b"/d", b"r" * 5000) + get(b"/b")),
    "budget_300_chunked": (BUDGET_300, 19 | TWO, chunked(b"/d", [b"s" * 500] * 4)
                           + post(b"/b", b"t" * 700)),
    "budget_70k_big_answers": (BUDGET_70K, 20 | TWO, b"".join(get(b"/b/%d" % i)
                                                              for i in range(6))),
    # issue 14 reproducers
    # 1: a pipelined stream whose reads end mid-request (the target splits at random)
    "d1_pipelined_stream": (0, 21, b"".join(get(b"/e/%d" % i) for i in range(40))),
    # 2: a half-close after deferred (pool-like) requests, and a request cut short
    "d2_half_close_deferred": (0, 22, get(b"/d/1") + post(b"/d/2", b"{}")
                               + b"GET /e HTTP/1.1\r\nHo"),
    "d2_reset_with_deferred": (ABRUPT, 23, get(b"/d/1") + get(b"/d/2") + get(b"/b")),
    # 3: big malformed bodies under a small budget, answers bigger than the bodies
    "d3_big_bodies_budget": (BUDGET_70K, 24 | TWO, post(b"/b", b"\x01" * 60000)
                             + post(b"/b", b"\x01" * 60000)),
    # 4: strictness
    "d4_bytes_after_chunk_data": (0, 25, b"POST /e HTTP/1.1\r\nTransfer-Encoding: chunked"
                                  b"\r\n\r\n2\r\n{}XX0\r\n\r\n" + get(b"/e")),
    "d4_gzip_chunked": (0, 26, b"POST /e HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                        b"2\r\n{}\r\n0\r\n\r\n"),
    "d4_te_two_headers": (0, 27, b"POST /e HTTP/1.1\r\nTransfer-Encoding: gzip\r\n"
                          b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    "d4_http2_request_line": (0, 28, get(b"/e") + b"GET /e HTTP/2.0\r\n\r\n"),
    "d4_http09": (0, 29, b"GET /e HTTP/0.9\r\n\r\n"),
    "d4_empty_header_name": (0, 30, b"GET /e HTTP/1.1\r\n: v\r\n\r\n"),
    "d4_space_before_colon": (0, 31, b"GET /e HTTP/1.1\r\nHost : x\r\n\r\n"),
    "d4_chunk_extensions": (HDR_256, 0, chunked(b"/e", [b"a"] * 30, ext=b";ext=" + b"e" * 20)),
    "d4_cl_and_te": (0, 1, b"POST /e HTTP/1.1\r\nContent-Length: 2\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n"),
    # 5: big answers read while the stream goes on (partial writes)
    "d5_big_answers": (0, 2, b"".join(get(b"/b") for _ in range(8)) + get(b"/e")),
    # 6: a drain while requests arrive on a keep-alive connection
    "d6_drain_keepalive": (0, 3 | DRAIN, b"".join(get(b"/e/%d" % i) for i in range(30))),
    "d6_drain_deferred": (0, 4 | DRAIN | TWO, get(b"/d") + get(b"/e") + get(b"/d")),
    # 9: a connection over the fd limit: one 503, the stream read and discarded
    "d9_over_fd_limit": (0, 5 | OVER_FD | TWO, get(b"/e") + post(b"/e", b"x" * 100)),
    # found by the target: a last answer after a pause must linger reading (no timer)
    "found_linger_reads_after_pause": (HDR_96 | BODY_0 | PIPE_2 | BUDGET_70K | ABRUPT, 0,
                                       get(b"/e") + b"POST /9/1?q=2 HTTP/1.1\r\n"
                                       b"Content-Len.th: 4\r\n\r\n\x04\xffc\x07ET /nope "
                                       b"HTTP/0.(\r\n\r\n"),
    # found by the target: an answer given while nothing else keeps the loop alive (a
    # draining server, a connection paused at its pipeline limit) must still be written
    "found_flush_with_nothing_else_alive": (0xff, 0xfb, get(b"/d") + b"GET /e HTTP/1.1\r\n"
                                            b"Host: x" + b"{" * 60 + b"\r\n\r\n"
                                            b"CET: 2\r\n\r\n{}GET /g HTT\x91\xf0"),
}


def main(out):
    os.makedirs(out, exist_ok=True)
    for name, (cfg, seed, stream) in sorted(SEEDS.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(bytes([cfg, seed]) + stream)
    print(f"{len(SEEDS)} seeds in {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else
         os.path.join(HERE, "corpus", "fuzz_http_conn"))
