/* json_encoding.h - json.loads(bytes)'s choice of text encoding (json.detect_encoding)
 * and the decoding it implies, so that the scanner always sees UTF-8: UTF-8 (a leading
 * BOM skipped, as 'utf-8-sig' does) is used in place; UTF-16 and UTF-32 bodies are
 * transcoded into a heap buffer with errors='surrogatepass' semantics (lone surrogates
 * kept, encoded as 3 bytes). Internal to src/api/. */
#ifndef PD_API_JSON_ENCODING_H
#define PD_API_JSON_ENCODING_H

#include <stddef.h>

/* The UTF-8 text of body[0, len).
 * On 0: *doc and *dlen give the text; *owned is NULL when *doc points into body (which must then
 * outlive *doc), else the heap buffer holding it, which the caller frees.
 * Returns PD_EFORMAT when the bytes do not decode (Python: UnicodeDecodeError, FastAPI:
 * 400), PD_ENOMEM when the buffer cannot be allocated. Invalid UTF-8 is not detected here:
 * the scanner validates UTF-8 as it goes. */
int pd__json_text(const unsigned char *body, size_t len, const unsigned char **doc,
                  size_t *dlen, unsigned char **owned);

#endif
