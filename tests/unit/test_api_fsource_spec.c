/* test_api_fsource_spec.c - a model's feature_source settings (api/fsource.h): what a valid
 * one becomes (store, display URL without the password, key template parts and fields,
 * stored field per feature), and every refusal of the parser and of the Redis URL check,
 * each naming the member; reading the settings file (absent, too big, bad). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/fsource.h"
#include "common.h"

static const char *const k_feats[] = {"age", "income", "score"};

/* Parses {"feature_source": fsrc} for k_feats; returns the code, *out, and err. */
static int parse(const char *fsrc, pd_fsource_spec_t **out, char *err, size_t errlen)
{
    char text[4096];
    snprintf(text, sizeof text, "{\"other\": 1, \"feature_source\": %s}", fsrc);
    err[0] = '\0';
    return pd_fsource_spec_parse(text, strlen(text), k_feats, 3, 0, out, err, errlen);
}

/* The parser refuses fsrc with an error containing `want`. */
static void refused(const char *fsrc, const char *want)
{
    pd_fsource_spec_t *s = (void *)1;
    char err[512];
    int rc = parse(fsrc, &s, err, sizeof err);
    if (rc != PD_EINVAL || s != NULL || strstr(err, want) == NULL)
        fail_msg("%s: rc %d, err '%s', wanted '%s'", fsrc, rc, err, want);
}

static void test_valid_spec(void **st)
{
    (void)st;
    pd_fsource_spec_t *s;
    char err[256];
    assert_int_equal(parse("{\"redis\": \"redis://:pw@cache.local:6380/3\", \"key\": "
                           "\"t:{region}:{user_id}:{region}\", \"fields\": {\"income\": "
                           "\"inc\"}}", &s, err, sizeof err), 0);
    assert_non_null(s);
    assert_string_equal(pd_fsource_spec_kind(s), "redis");
    assert_string_equal(s->display, "redis://:***@cache.local:6380/3");
    assert_null(strstr(s->display, "pw"));
    assert_int_equal(s->n_key_fields, 2);
    assert_string_equal(s->key_fields[0], "region");
    assert_string_equal(s->key_fields[1], "user_id");
    assert_int_equal(s->n_parts, 6);
    assert_false(s->parts[0].field);
    assert_memory_equal(s->parts[0].text, "t:", 2);
    assert_true(s->parts[1].field && s->parts[1].index == 0);
    assert_true(s->parts[3].field && s->parts[3].index == 1);
    assert_true(s->parts[5].field && s->parts[5].index == 0);
    assert_int_equal(s->n_features, 3);
    assert_string_equal(s->fields[0], "age");
    assert_string_equal(s->fields[1], "inc");
    assert_int_equal(s->field_lens[1], 3);
    assert_string_equal(s->fields[2], "score");
    pd_fsource_spec_free(s);
    assert_int_equal(parse("{\"redis\": \"redis://h\", \"key\": \"{id}\"}", &s, err, sizeof err), 0);
    assert_string_equal(s->display, "redis://h:6379/0");
    assert_int_equal(s->n_parts, 1);
    pd_fsource_spec_free(s);
    assert_int_equal(parse("{\"redis\": \"redis://user:p%40ss@[::1]:1/\", \"key\": \"u{id}\"}",
                           &s, err, sizeof err), 0);
    assert_string_equal(s->display, "redis://user:***@[::1]:1/0");
    pd_fsource_spec_free(s);
    pd_fsource_spec_free(NULL);
}

static void test_no_feature_source(void **st)
{
    (void)st;
    pd_fsource_spec_t *s = (void *)1;
    char err[128];
    const char *t = "{\"version_policy\": {\"latest\": 1}}";
    assert_int_equal(pd_fsource_spec_parse(t, strlen(t), k_feats, 3, 1, &s, err, sizeof err), 0);
    assert_null(s);
}

static void test_document_errors(void **st)
{
    (void)st;
    pd_fsource_spec_t *s;
    char err[256];
    const char *bad[] = {"{", "[1]", "{\"a\": 1, \"a\": 2}", "", "{\"feature_source\": {}} x"};
    const char *want[] = {"not valid JSON", "expected a JSON object", "not valid JSON",
                          "not valid JSON", "not valid JSON"};
    for (size_t i = 0; i < PD_ARRAY_SIZE(bad); i++) {
        s = (void *)1;
        int rc = pd_fsource_spec_parse(bad[i], strlen(bad[i]), k_feats, 3, 0, &s, err, sizeof err);
        if (rc != PD_EINVAL || s != NULL || strstr(err, want[i]) == NULL)
            fail_msg("'%s': rc %d, err '%s'", bad[i], rc, err);
    }
}

static void test_member_errors(void **st)
{
    (void)st;
    refused("1", "feature_source: expected an object");
    refused("[]", "feature_source: expected an object");
    refused("{\"key\": \"u:{id}\"}", "feature_source: names no store");
    refused("{\"mongo\": \"x\", \"key\": \"u:{id}\"}", "unknown member 'mongo'");
    refused("{\"redis\": \"redis://h\", \"key\": \"u:{id}\", \"ttl\": 3}", "unknown member 'ttl'");
    refused("{\"redis\": 5, \"key\": \"u:{id}\"}", "feature_source.redis: expected a URL");
    refused("{\"redis\": \"\", \"key\": \"u:{id}\"}", "feature_source.redis: expected a URL");
    refused("{\"redis\": \"redis://h\\u0000x\", \"key\": \"u:{id}\"}", "not valid JSON");
    char big[2200];
    snprintf(big, sizeof big, "{\"redis\": \"redis://%01200d\", \"key\": \"u:{id}\"}", 0);
    refused(big, "feature_source.redis: expected a URL of 1 to 1024 bytes");
    refused("{\"redis\": \"redis://h\"}", "feature_source.key: expected a string");
    refused("{\"redis\": \"redis://h\", \"key\": 7}", "feature_source.key: expected a string");
    refused("{\"redis\": \"redis://h\", \"key\": \"a\\u0000{b}\"}", "not valid JSON");
}

static void test_url_errors(void **st)
{
    (void)st;
    static const struct { const char *url, *want; } c[] = {
        {"http://h", "not a redis:// URL"},
        {"rediss://h", "not a redis:// URL"},
        {"redis://", "no host"},
        {"redis://:6379", "no host"},
        {"redis://h:0", "port must be 1 to 65535"},
        {"redis://h:65536", "port must be 1 to 65535"},
        {"redis://h:123456", "port must be 1 to 65535"},
        {"redis://h:", "port must be 1 to 65535"},
        {"redis://h:8a", "port must be 1 to 65535"},
        {"redis://h/65536", "database must be a number from 0 to 65535"},
        {"redis://h/x", "database must be a number"},
        {"redis://h/99999999999999999999", "database must be a number"},
        {"redis://h?db=1", "a query or fragment"},
        {"redis://h#x", "a query or fragment"},
        {"redis://h st", "the host holds a character"},
        {"redis://[::1", "lacks its ']'"},
        {"redis://[::1]x", "text after the IPv6 address"},
        {"redis://user@h", "without ':PASSWORD'"},
        {"redis://:p%4@h", "bad %-escape"},
        {"redis://:p%zz@h", "bad %-escape"},
        {"redis://:p%00@h", "bad %-escape"},
    };
    for (size_t i = 0; i < PD_ARRAY_SIZE(c); i++) {
        char f[256];
        snprintf(f, sizeof f, "{\"redis\": \"%s\", \"key\": \"u:{id}\"}", c[i].url);
        refused(f, c[i].want);
        refused(f, "feature_source.redis: ");
    }
    char host[600], f[800];
    memset(host, 'h', 300);
    host[300] = '\0';
    snprintf(f, sizeof f, "{\"redis\": \"redis://%s\", \"key\": \"u:{id}\"}", host);
    refused(f, "longer than 255 bytes");
    char pw[300];
    memset(pw, 'p', 270);
    pw[270] = '\0';
    snprintf(f, sizeof f, "{\"redis\": \"redis://:%s@h\", \"key\": \"u:{id}\"}", pw);
    refused(f, "over 255 bytes");
}

static void test_key_template_errors(void **st)
{
    (void)st;
    static const struct { const char *key, *want; } c[] = {
        {"", "1 to 256 bytes"},
        {"user", "names no request field"},
        {"u:}", "'}' at byte 2 closes nothing"},
        {"u:{id", "'{' at byte 2 must open a field"},
        {"u:{}", "'{' at byte 2 must open a field"},
        {"u:{1a}", "'{' at byte 2 must open a field"},
        {"u:{a-b}", "'{' at byte 2 must open a field"},
        {"u:{a{b}}", "'{' at byte 2 must open a field"},
        {"u:{age}", "{age} is a feature of the model"},
        {"{a}{b}{c}{d}{e}{f}{g}{h}{i}", "more than 8 distinct fields"},
    };
    for (size_t i = 0; i < PD_ARRAY_SIZE(c); i++) {
        char f[256];
        snprintf(f, sizeof f, "{\"redis\": \"redis://h\", \"key\": \"%s\"}", c[i].key);
        refused(f, c[i].want);
        refused(f, "feature_source.key: ");
    }
    char name[80], f[400];
    memset(name, 'n', 65);
    name[65] = '\0';
    snprintf(f, sizeof f, "{\"redis\": \"redis://h\", \"key\": \"{%s}\"}", name);
    refused(f, "1 to 64 characters");
    char longkey[300];
    memset(longkey, 'k', 257);
    memcpy(longkey, "{id}", 4);
    longkey[257] = '\0';
    snprintf(f, sizeof f, "{\"redis\": \"redis://h\", \"key\": \"%s\"}", longkey);
    refused(f, "1 to 256 bytes");
    /* eight distinct fields, repeated, are fine */
    pd_fsource_spec_t *s;
    char err[256];
    assert_int_equal(parse("{\"redis\": \"redis://h\", \"key\": \"{a}{b}{c}{d}{e}{f}{g}{h}{a}\"}",
                           &s, err, sizeof err), 0);
    assert_int_equal(s->n_key_fields, 8);
    pd_fsource_spec_free(s);
}

static void test_fields_errors(void **st)
{
    (void)st;
    refused("{\"redis\": \"redis://h\", \"key\": \"{id}\", \"fields\": [1]}",
            "feature_source.fields: expected an object");
    refused("{\"redis\": \"redis://h\", \"key\": \"{id}\", \"fields\": {\"nope\": \"x\"}}",
            "feature_source.fields: 'nope' is not a feature of the model");
    refused("{\"redis\": \"redis://h\", \"key\": \"{id}\", \"fields\": {\"age\": 1}}",
            "feature_source.fields.age: expected a field name");
    refused("{\"redis\": \"redis://h\", \"key\": \"{id}\", \"fields\": {\"age\": \"\"}}",
            "feature_source.fields.age: expected a field name");
    refused("{\"redis\": \"redis://h\", \"key\": \"{id}\", \"fields\": {\"age\": \"a\\u0000\"}}",
            "not valid JSON"); /* jansson refuses NUL in strings */
    char f[600], name[300];
    memset(name, 'f', 257);
    name[257] = '\0';
    snprintf(f, sizeof f, "{\"redis\": \"redis://h\", \"key\": \"{id}\", \"fields\": "
             "{\"age\": \"%s\"}}", name);
    refused(f, "1 to 256 bytes");
}

static void test_read_file(void **st)
{
    (void)st;
    char dir[] = "/tmp/pd-fspec-XXXXXX", path[PATH_MAX], err[512];
    pd_fsource_spec_t *s = (void *)1;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/m.settings.json", dir);
    assert_int_equal(pd_fsource_spec_read(path, 1024, k_feats, 3, 1, &s, err, sizeof err), 0);
    assert_null(s); /* no file: no feature source */
    FILE *f = fopen(path, "w");
    fputs("{\"feature_source\": {\"redis\": \"redis://h\", \"key\": \"{id}\"}}", f);
    fclose(f);
    assert_int_equal(pd_fsource_spec_read(path, 1024, k_feats, 3, 1, &s, err, sizeof err), 0);
    assert_non_null(s);
    assert_true(s->missing_ok);
    pd_fsource_spec_free(s);
    assert_int_equal(pd_fsource_spec_read(path, 10, k_feats, 3, 1, &s, err, sizeof err),
                     PD_EINVAL);
    assert_non_null(strstr(err, "larger than 10 bytes"));
    assert_non_null(strstr(err, path));
    f = fopen(path, "w");
    fputs("{\"feature_source\": {\"redis\": \"redis://h\", \"key\": \"x\"}}", f);
    fclose(f);
    assert_int_equal(pd_fsource_spec_read(path, 1024, k_feats, 3, 1, &s, err, sizeof err),
                     PD_EINVAL);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "feature_source.key"));
    assert_int_equal(pd_fsource_spec_read(dir, 1024, k_feats, 3, 1, &s, err, sizeof err),
                     PD_EINVAL); /* a directory: cannot read it */
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_spec),
        cmocka_unit_test(test_no_feature_source),
        cmocka_unit_test(test_document_errors),
        cmocka_unit_test(test_member_errors),
        cmocka_unit_test(test_url_errors),
        cmocka_unit_test(test_key_template_errors),
        cmocka_unit_test(test_fields_errors),
        cmocka_unit_test(test_read_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
