/* test_api_codec_v2.c - pd_codec_v2 decoding JSON inference requests: the protocol's own
 * documented examples (KServe's iris request, the Open Inference Protocol's example, a
 * Seldon flat [1, 4] request, MLServer's pandas-style request), both input layouts, flat
 * and nested data, every datatype's JSON values converted exactly, missing values, the
 * request-level keys (id, parameters, outputs), limits, and every error with its status
 * and exact message. */
#include "test_api_codec_v2_fixture.h"

#define F32(x) ((double)(float)(x))

/* KServe's sklearn/lightgbm V2 iris request (nested FP32), and the same flat. */
static void test_kserve_iris_example(void **state)
{
    (void)state;
    const double want[] = {F32(6.8), F32(2.8), F32(4.8), F32(1.4),
                           F32(6.0), F32(3.4), F32(4.5), F32(1.6)};
    assert_true(want[0] == 6.80000019073486328125); /* the float32 the client meant */
    expect_rows(&iris, 0, "{\"inputs\": [{\"name\": \"input-0\", \"shape\": [2, 4], "
                "\"datatype\": \"FP32\", \"data\": [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]}]}",
                2, want);
    expect_rows(&iris, 0, "{\"inputs\":[{\"name\":\"input-0\",\"shape\":[2,4],\"datatype\":"
                "\"FP32\",\"data\":[6.8,2.8,4.8,1.4,6.0,3.4,4.5,1.6]}]}", 2, want);
    /* any order of the keys: data first is read again once the tensor's object ended */
    expect_rows(&iris, 0, "{\"inputs\":[{\"data\":[[6.8,2.8,4.8,1.4],[6.0,3.4,4.5,1.6]],"
                "\"datatype\":\"FP32\",\"shape\":[2,4],\"name\":\"x\"}],\"id\":\"1\"}", 2, want);
    /* Seldon's [1, 4] with flat data, FP64 */
    const double one[] = {5.1, 3.5, 1.4, 0.2};
    expect_rows(&iris, 0, "{\"inputs\":[{\"name\":\"input-0\",\"shape\":[1,4],\"datatype\":"
                "\"FP64\",\"data\":[5.1,3.5,1.4,0.2]}]}", 1, one);
}

/* The protocol's own example names two tensors no iris model has: what it is told. */
static void test_oip_spec_example(void **state)
{
    (void)state;
    expect_err(&iris, 0, "{\"id\" : \"42\", \"inputs\" : [{\"name\" : \"input0\", \"shape\" : "
               "[ 2, 2 ], \"datatype\" : \"UINT32\", \"data\" : [ 1, 2, 3, 4 ]}, {\"name\" : "
               "\"input1\", \"shape\" : [ 3 ], \"datatype\" : \"BOOL\", \"data\" : [ true ]}], "
               "\"outputs\" : [{\"name\" : \"output0\"}]}", 400,
               "input 'input0': expected shape [N, 4] (N rows of the model's 4 features), "
               "got [2, 2]");
    /* with a fitting first tensor, the second one is refused */
    expect_err(&iris, 0, "{\"inputs\":[{\"name\":\"input0\",\"shape\":[1,4],\"datatype\":"
               "\"UINT32\",\"data\":[1,2,3,4]},{\"name\":\"input1\",\"shape\":[3],\"datatype\":"
               "\"BOOL\",\"data\":[true,false,true]}]}", 400,
               "input 'input1': a second tensor beside the [N, 4] tensor input 'input0'; send "
               "that one alone");
    /* and so is its output's name */
    expect_err(&iris, 0, "{\"inputs\":[{\"name\":\"input0\",\"shape\":[1,4],\"datatype\":"
               "\"UINT32\",\"data\":[1,2,3,4]}],\"outputs\":[{\"name\":\"output0\"}]}", 400,
               "outputs[0]: unknown output 'output0' (the model's outputs: predict, "
               "predict_proba)");
}

/* MLServer's pandas-style request: one 1-D tensor per feature, named by it, any order,
 * [N] or [N, 1], mixed datatypes. */
static void test_feature_columns(void **state)
{
    (void)state;
    const double want[] = {6.8, 2.8, 4.0, 1.0, 6.0, 3.4, 5.0, 0.0};
    expect_rows(&iris, 0, "{\"parameters\": {\"content_type\": \"pd\"}, \"inputs\": ["
                "{\"name\": \"petal_width\", \"shape\": [2], \"datatype\": \"BOOL\", "
                "\"data\": [true, false]},"
                "{\"name\": \"sepal_length\", \"shape\": [2, 1], \"datatype\": \"FP64\", "
                "\"data\": [[6.8], [6.0]], \"parameters\": {\"content_type\": \"np\"}},"
                "{\"name\": \"petal_length\", \"shape\": [2], \"datatype\": \"INT32\", "
                "\"data\": [4, 5]},"
                "{\"name\": \"sepal_width\", \"shape\": [2, 1], \"datatype\": \"FP64\", "
                "\"data\": [2.8, 3.4]}]}", 2, want);
    /* a feature name with an escape matches */
    const double ab[] = {1, 2};
    expect_rows(&reg2, 0, "{\"inputs\":[{\"name\":\"\\u0061\",\"shape\":[1],\"datatype\":"
                "\"FP64\",\"data\":[1]},{\"name\":\"b\",\"shape\":[1],\"datatype\":\"FP64\","
                "\"data\":[2]}]}", 1, ab);
}

/* Every datatype's JSON values, converted as numpy converts them to float64. */
static void test_datatypes_json(void **state)
{
    (void)state;
    struct {
        const char *type, *data;
        double want[2];
    } cases[] = {
        {"BOOL", "[true, false]", {1, 0}},
        {"UINT8", "[0, 255]", {0, 255}},
        {"UINT16", "[65535, 1]", {65535, 1}},
        {"UINT32", "[4294967295, 0]", {4294967295.0, 0}},
        {"UINT64", "[18446744073709551615, 9007199254740993]",
         {18446744073709551616.0, 9007199254740992.0}},
        {"INT8", "[-128, 127]", {-128, 127}},
        {"INT16", "[-32768, 32767]", {-32768, 32767}},
        {"INT32", "[-2147483648, 2147483647]", {-2147483648.0, 2147483647.0}},
        {"INT64", "[-9223372036854775808, -0]", {-9223372036854775808.0, 0.0}},
        {"FP16", "[0.1, 65504]", {0.0999755859375, 65504}},
        {"FP16", "[1e-8, -3e-8]", {0.0, -0x1p-24}},     /* underflow; rounds to -min sub */
        {"FP16", "[2049, 2051]", {2048, 2052}},          /* ties to even */
        {"FP32", "[0.1, 16777217]", {0.100000001490116119384765625, 16777216}},
        {"FP32", "[3.4028235e38, -1e-46]", {3.4028234663852886e38, -0.0}},
        {"FP64", "[0.1, 1e-300]", {0.1, 1e-300}},
        {"FP64", "[-0, -0.0]", {0.0, -0.0}},
    };
    for (size_t i = 0; i < PD_ARRAY_SIZE(cases); i++) {
        char body[512];
        snprintf(body, sizeof body, "{\"inputs\":[{\"name\":\"input-0\",\"shape\":[1,2],"
                 "\"datatype\":\"%s\",\"data\":%s}]}", cases[i].type, cases[i].data);
        expect_rows(&reg2, 0, body, 1, cases[i].want);
    }
}

static void test_datatype_errors(void **state)
{
    (void)state;
    struct {
        const char *type, *data, *want;
    } cases[] = {
        {"INT8", "[128, 0]", "input 'x': element 0 (row 0, feature 'a'): 128 is out of range "
                             "for INT8 [-128, 127]"},
        {"UINT8", "[0, -1]", "input 'x': element 1 (row 0, feature 'b'): -1 is out of range "
                             "for UINT8 [0, 255]"},
        {"INT64", "[9223372036854775808, 0]", "input 'x': element 0 (row 0, feature 'a'): "
         "9223372036854775808 is out of range for INT64 [-9223372036854775808, "
         "9223372036854775807]"},
        {"UINT64", "[18446744073709551616, 0]", "input 'x': element 0 (row 0, feature 'a'): "
         "18446744073709551616 is out of range for UINT64 [0, 18446744073709551615]"},
        {"INT32", "[1.5, 0]", "input 'x': element 0 (row 0, feature 'a'): expected an integer "
                              "for INT32, got 1.5"},
        {"INT32", "[1.0, 0]", "input 'x': element 0 (row 0, feature 'a'): expected an integer "
                              "for INT32, got 1.0"},
        {"BOOL", "[1, 0]", "input 'x': element 0 (row 0, feature 'a'): expected true or false "
                           "for BOOL, got 1"},
        {"FP32", "[true, 0]", "input 'x': element 0 (row 0, feature 'a'): expected a number "
                              "for FP32, got a boolean"},
        {"FP64", "[1, \"2\"]", "input 'x': element 1 (row 0, feature 'b'): expected a number "
                               "for FP64, got a string"},
        {"FP32", "[1e39, 0]", "input 'x': element 0 (row 0, feature 'a'): 1e39 is not a "
                              "finite FP32 number"},
        {"FP16", "[0, 65520]", "input 'x': element 1 (row 0, feature 'b'): 65520 is not a "
                               "finite FP16 number"},
        {"FP64", "[1e400, 0]", "input 'x': element 0 (row 0, feature 'a'): 1e400 is not a "
                               "finite FP64 number"},
        {"FP64", "[Infinity, 0]", "input 'x': element 0 (row 0, feature 'a'): Infinity is not "
                                  "a finite number"},
        {"INT16", "[NaN, 0]", "input 'x': element 0 (row 0, feature 'a'): NaN is not a value "
                              "of INT16"},
    };
    for (size_t i = 0; i < PD_ARRAY_SIZE(cases); i++) {
        char body[512];
        snprintf(body, sizeof body, "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,2],"
                 "\"datatype\":\"%s\",\"data\":%s}]}", cases[i].type, cases[i].data);
        expect_err(&reg2, 1, body, 400, cases[i].want);
    }
    expect_err(&reg2, 0, "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,2],\"datatype\":\"FP8\","
               "\"data\":[1,2]}]}", 400, "input 'x': unknown datatype 'FP8' (expected BOOL, "
               "UINT8, UINT16, UINT32, UINT64, INT8, INT16, INT32, INT64, FP16, FP32 or FP64)");
    expect_err(&reg2, 0, "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,2],\"datatype\":\"BYTES\","
               "\"data\":[\"a\",\"b\"]}]}", 400, "input 'x': datatype BYTES is not accepted, "
               "the model's inputs are numbers (BOOL, INT8..INT64, UINT8..UINT64, FP16, FP32, "
               "FP64)");
}

/* Flat data must hold the shape's count; nested data must follow the shape. */
static void test_shape_and_data_errors(void **state)
{
    (void)state;
    const char *head = "{\"inputs\":[{\"name\":\"input-0\",\"datatype\":\"FP64\",";
    struct {
        const char *rest, *want;
    } cases[] = {
        {"\"shape\":[2,4],\"data\":[1,2,3,4,5,6,7]}]}",
         "input 'input-0': \"data\" holds 7 values, shape [2, 4] holds 8"},
        {"\"shape\":[2,4],\"data\":[1,2,3,4,5,6,7,8,9]}]}",
         "input 'input-0': \"data\" holds more than the 8 values of shape [2, 4]"},
        {"\"shape\":[2,4],\"data\":[[1,2,3,4],[5,6,7]]}]}",
         "input 'input-0': data[1] holds 3 values, shape [2, 4] says 4"},
        {"\"shape\":[2,4],\"data\":[[1,2,3,4],[5,6,7,8,9]]}]}",
         "input 'input-0': data[1] holds more than 4 values (shape [2, 4])"},
        {"\"shape\":[2,4],\"data\":[[1,2,3,4]]}]}",
         "input 'input-0': data holds 1 values, shape [2, 4] says 2"},
        {"\"shape\":[2,4],\"data\":[[1,2,3,4],[5,6,[7],8]]}]}",
         "input 'input-0': data[1][2] is a list, expected a value (shape [2, 4])"},
        {"\"shape\":[2,4],\"data\":[[1,2,3,4],5,6,7,8]}]}",
         "input 'input-0': data[1] is a number, expected a list (shape [2, 4])"},
        {"\"shape\":[2,4],\"data\":[1,2,3,4,[5],6,7,8]}]}",
         "input 'input-0': data[4] is a list, expected a value (flat data holds values only)"},
        {"\"shape\":[2,4],\"data\":{\"a\":1}}]}",
         "input 'input-0': \"data\" must be a list, got an object"},
        {"\"shape\":[2,3],\"data\":[1,2,3,4,5,6]}]}",
         "input 'input-0': expected shape [N, 4] (N rows of the model's 4 features), got [2, 3]"},
        {"\"shape\":[8],\"data\":[1,2,3,4,5,6,7,8]}]}",
         "input 'input-0': expected shape [N, 4] (N rows of the model's 4 features), got [8]"},
        {"\"shape\":[1,1,4],\"data\":[1,2,3,4]}]}",
         "input 'input-0': expected shape [N, 4] (N rows of the model's 4 features), got "
         "[1, 1, 4]"},
        {"\"shape\":[1,-4],\"data\":[1,2,3,4]}]}",
         "input 'input-0': dimension 1 of \"shape\" must be a non-negative integer, got a "
         "negative one"},
        {"\"shape\":[1,4.0],\"data\":[1,2,3,4]}]}",
         "input 'input-0': dimension 1 of \"shape\" must be a non-negative integer, got a number"},
        {"\"shape\":[1,1,1,1,1,1,1,1,4],\"data\":[1,2,3,4]}]}",
         "input 'input-0': \"shape\" has more than 8 dimensions"},
        {"\"shape\":\"1,4\",\"data\":[1,2,3,4]}]}",
         "input 'input-0': \"shape\" must be a list of dimensions, got a string"},
    };
    for (size_t i = 0; i < PD_ARRAY_SIZE(cases); i++) {
        char body[512];
        snprintf(body, sizeof body, "%s%s", head, cases[i].rest);
        expect_err(&iris, 0, body, 400, cases[i].want);
    }
    /* nested data of an [N, 1] feature tensor, and zero rows */
    const double ab[] = {1, 3, 2, 4};
    expect_rows(&reg2, 0, "{\"inputs\":[{\"name\":\"b\",\"shape\":[2,1],\"datatype\":\"FP64\","
                "\"data\":[[3],[4]]},{\"name\":\"a\",\"shape\":[2],\"datatype\":\"FP64\","
                "\"data\":[1,2]}]}", 2, ab);
    expect_rows(&iris, 0, "{\"inputs\":[{\"name\":\"x\",\"shape\":[0,4],\"datatype\":\"FP64\","
                "\"data\":[]}]}", 0, ab);
}

/* Which tensor goes where, and what the message says when they do not fit together. */
static void test_layout_errors(void **state)
{
    (void)state;
    expect_err(&reg2, 0, "{\"inputs\":[{\"name\":\"a\",\"shape\":[2],\"datatype\":\"FP64\","
               "\"data\":[1,2]},{\"name\":\"b\",\"shape\":[3],\"datatype\":\"FP64\","
               "\"data\":[1,2,3]}]}", 400,
               "input 'b' has 3 rows (shape [3]), input 'a' has 2: every input holds the same "
               "rows");
    expect_err(&reg2, 0, "{\"inputs\":[{\"name\":\"a\",\"shape\":[1],\"datatype\":\"FP64\","
               "\"data\":[1]},{\"name\":\"a\",\"shape\":[1],\"datatype\":\"FP64\","
               "\"data\":[2]}]}", 400, "input 'a' is given twice");
    expect_err(&reg2, 0, "{\"inputs\":[{\"name\":\"a\",\"shape\":[1],\"datatype\":\"FP64\","
               "\"data\":[1]},{\"name\":\"c\",\"shape\":[1],\"datatype\":\"FP64\","
               "\"data\":[2]}]}", 400, "input 'c': no feature of the model has this name; send "
               "one [N, 2] tensor alone, or one [N] tensor per feature named by the feature");
    expect_err(&reg2, 0, "{\"inputs\":[{\"name\":\"m\",\"shape\":[1,2],\"datatype\":\"FP64\","
               "\"data\":[1,2]},{\"name\":\"a\",\"shape\":[1],\"datatype\":\"FP64\","
               "\"data\":[2]}]}", 400, "input 'a': a feature's tensor beside the [N, 2] tensor "
               "input 'm'; send one form or the other");
    expect_err(&reg2, 0, "{\"inputs\":[{\"name\":\"a\",\"shape\":[1,2],\"datatype\":\"FP64\","
               "\"data\":[1,2]}]}", 400,
               "input 'a': expected shape [N] or [N, 1] (one value of the feature per row), got "
               "[1, 2]");
    expect_err(&reg2, 0, "{\"inputs\":[{\"name\":\"a\",\"shape\":[1],\"datatype\":\"FP64\","
               "\"data\":[1]}]}", 400, "\"inputs\": no input for feature 'b', and the model "
               "takes no missing values (send one [N] tensor per feature, or one [N, 2] tensor)");
    /* a model that takes missing values: the feature not sent is missing in every row */
    const double nan_b[] = {1, NAN, 2, NAN};
    expect_rows(&reg2, 1, "{\"inputs\":[{\"name\":\"a\",\"shape\":[2],\"datatype\":\"FP32\","
                "\"data\":[1,2]}]}", 2, nan_b);
}

/* null (and NaN in float types) are missing values, only where the model takes them. */
static void test_missing_values(void **state)
{
    (void)state;
    const double want[] = {NAN, 2, 3, NAN};
    expect_rows(&reg2, 1, "{\"inputs\":[{\"name\":\"x\",\"shape\":[2,2],\"datatype\":\"FP64\","
                "\"data\":[null,2,3,NaN]}]}", 2, want);
    expect_rows(&reg2, 1, "{\"inputs\":[{\"name\":\"x\",\"shape\":[2,2],\"datatype\":\"INT32\","
                "\"data\":[[null,2],[3,null]]}]}", 2, want);
    expect_err(&reg2, 0, "{\"inputs\":[{\"name\":\"x\",\"shape\":[2,2],\"datatype\":\"FP64\","
               "\"data\":[1,2,3,null]}]}", 400, "input 'x': element 3 (row 1, feature 'b'): "
               "null, and the model takes no missing values");
    expect_err(&reg2, 0, "{\"inputs\":[{\"name\":\"b\",\"shape\":[2],\"datatype\":\"FP32\","
               "\"data\":[1,NaN]},{\"name\":\"a\",\"shape\":[2],\"datatype\":\"FP32\","
               "\"data\":[1,2]}]}", 400, "input 'b': element 1 (row 1, feature 'b'): NaN, and "
               "the model takes no missing values");
}

/* What the request asks for lands in the codec's state and the rows. */
static void test_request_keys(void **state)
{
    (void)state;
    pd_rows_t rows;
    pd_buf_t err;
    const char *body = "{\"model_name\":\"iris\",\"id\":\"a\\\"b\",\"parameters\":{\"timeout\":"
                       "2500,\"priority\":3,\"binary_data_output\":true,\"x\":[{}]},\"inputs\":"
                       "[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP64\",\"data\":[1,2,3,4]"
                       "}],\"outputs\":[{\"name\":\"predict_proba\",\"parameters\":{\"binary_data"
                       "\":false,\"class_count\":3}},{\"name\":\"predict\"}]}";
    assert_int_equal(v2_run(&iris, 0, NULL, body, strlen(body), 0, &rows, &err), 0);
    assert_int_equal(rows.timeout_ns, 2500000);
    assert_int_equal(rows.outputs, PD_OUT_LABEL | PD_OUT_PROBA);
    pd_rows_free(&rows);
    pd_buf_free(&err);
    /* predict only: no probabilities computed */
    body = "{\"inputs\":[{\"name\":\"x\",\"shape\":[1,4],\"datatype\":\"FP64\",\"data\":"
           "[1,2,3,4]}],\"outputs\":[{\"name\":\"predict\"}]}";
    assert_int_equal(v2_run(&iris, 0, NULL, body, strlen(body), 0, &rows, &err), 0);
    assert_int_equal(rows.outputs, PD_OUT_LABEL);
    assert_int_equal(rows.timeout_ns, 0);
    pd_rows_free(&rows);
    pd_buf_free(&err);
    const char *in1 = "\"inputs\":[{\"name\":\"x\",\"shape\":[1,2],\"datatype\":\"FP64\","
                      "\"data\":[1,2]}]";
    struct {
        const char *rest, *want;
    } cases[] = {
        {"\"id\":42", "body: \"id\" must be a string, got a number"},
        {"\"parameters\":[]", "body: \"parameters\" must be an object, got a list"},
        {"\"parameters\":{\"timeout\":-1}", "body: parameters.timeout must be a non-negative "
                                            "integer (microseconds), got a number"},
        {"\"parameters\":{\"timeout\":\"5\"}", "body: parameters.timeout must be a non-negative "
                                               "integer (microseconds), got a string"},
        {"\"parameters\":{\"binary_data_output\":1}", "body: parameters.binary_data_output must "
                                                      "be true or false, got a number"},
        {"\"outputs\":{}", "body: \"outputs\" must be a list, got an object"},
        {"\"outputs\":[\"predict\"]", "outputs[0]: expected an object {\"name\": ...}, got a "
                                      "string"},
        {"\"outputs\":[{}]", "outputs[0] has no \"name\""},
        {"\"outputs\":[{\"name\":\"predict_proba\"}]", "outputs[0]: the model computes no probabilities, "
                                                        "it has no output 'predict_proba' (the "
                                                        "model's outputs: predict)"},
        {"\"outputs\":[{\"name\":\"predict\"},{\"name\":\"predict\"}]",
         "outputs[1]: output 'predict' is asked for twice"},
        {"\"outputs\":[{\"name\":\"label\"}]", "outputs[0]: unknown output 'label' (the model's "
                                               "outputs: predict)"},
        {"\"outputs\":[{\"name\":\"predict\",\"parameters\":{\"binary_data\":\"yes\"}}]",
         "outputs[0]: parameters.binary_data must be true or false, got a string"},
    };
    for (size_t i = 0; i < PD_ARRAY_SIZE(cases); i++) {
        char b[512];
        snprintf(b, sizeof b, "{%s,%s}", in1, cases[i].rest);
        expect_err(&reg2, 0, b, 400, cases[i].want);
    }
}

/* The body and the tensor objects: what is missing or malformed. */
static void test_body_errors(void **state)
{
    (void)state;
    struct {
        const char *body, *want;
    } cases[] = {
        {"[]", "body: expected a JSON object with \"inputs\", got a list"},
        {"{}", "body: missing \"inputs\""},
        {"{\"inputs\":[]}", "body: \"inputs\" is empty"},
        {"{\"inputs\":{}}", "body: \"inputs\" must be a list of tensors, got an object"},
        {"{\"inputs\":[1]}", "inputs[0]: expected a tensor {\"name\", \"shape\", \"datatype\", "
                             "\"data\"}, got a number"},
        {"{\"inputs\":[{\"shape\":[1,2],\"datatype\":\"FP64\",\"data\":[1,2]}]}",
         "inputs[0] has no \"name\""},
        {"{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP64\",\"data\":[1,2]}]}",
         "input 'x' has no \"shape\""},
        {"{\"inputs\":[{\"name\":\"x\",\"shape\":[1,2],\"data\":[1,2]}]}",
         "input 'x' has no \"datatype\""},
        {"{\"inputs\":[{\"name\":\"x\",\"shape\":[1,2],\"datatype\":\"FP64\"}]}",
         "input 'x' has no \"data\" (nor parameters.binary_data_size for binary data)"},
        {"{\"inputs\":[{\"name\":\"x\",\"shape\":[1,2],\"shape\":[1,2],\"datatype\":\"FP64\","
         "\"data\":[1,2]}]}", "input 'x': \"shape\" is given twice"},
        {"{\"inputs\":[{\"name\":\"x\",\"shape\":[1,2],\"datatype\":\"FP64\",\"data\":[1,2],"
         "\"data\":[1,2]}]}", "input 'x': \"data\" is given twice"},
        {"{\"inputs\":[{\"name\":\"x\",\"shape\":[1,2],\"datatype\":\"FP64\",\"data\":[1,2],"
         "\"parameters\":{\"binary_data_size\":16}}]}",
         "input 'x' has both \"data\" and parameters.binary_data_size"},
        {"{\"inputs\":[{\"name\":7,\"shape\":[1,2],\"datatype\":\"FP64\",\"data\":[1,2]}]}",
         "inputs[0]: \"name\" must be a string, got a number"},
        {"{\"inputs\":[{\"name\":\"x\",\"shape\":[1,2],\"datatype\":\"FP64\",\"data\":[1,2]}],"
         "\"inputs\":[]}", "body: \"inputs\" is given twice"},
        /* a JSON syntax error is reported first, wherever it is */
        {"{\"inputs\":[{\"name\":\"x\",\"shape\":[9,9],\"datatype\":\"FP64\",\"data\":[1]}],"
         "\"z\":[1,}", "body: invalid JSON: Expecting value at byte 75 (line 1, column 76)"},
        {"{\"inputs\":[]} x", "body: invalid JSON: Extra data at byte 14 (line 1, column 15)"},
    };
    for (size_t i = 0; i < PD_ARRAY_SIZE(cases); i++)
        expect_err(&reg2, 0, cases[i].body, 400, cases[i].want);
}

/* More rows than --max-rows: 413, whatever the layout. */
static void test_row_limit(void **state)
{
    (void)state;
    const char *m = "{\"inputs\":[{\"name\":\"x\",\"shape\":[3,2],\"datatype\":\"FP64\","
                    "\"data\":[1,2,3,4,5,6]}]}";
    expect_err_full(&reg2, 0, NULL, m, strlen(m), 2, 413,
                    "input 'x': 3 rows, more than the server's limit of 2");
    const char *c = "{\"inputs\":[{\"name\":\"a\",\"shape\":[3],\"datatype\":\"FP64\","
                    "\"data\":[1,2,3]}]}";
    expect_err_full(&reg2, 1, NULL, c, strlen(c), 2, 413,
                    "input 'a': 3 rows, more than the server's limit of 2");
    const double want[] = {1, 2, 3, 4};
    pd_rows_t rows;
    pd_buf_t err;
    const char *ok = "{\"inputs\":[{\"name\":\"x\",\"shape\":[2,2],\"datatype\":\"FP64\","
                     "\"data\":[1,2,3,4]}]}";
    assert_int_equal(v2_run(&reg2, 0, NULL, ok, strlen(ok), 2, &rows, &err), 0);
    check_x(&rows, 2, want, ok);
    pd_rows_free(&rows);
    pd_buf_free(&err);
}

/* A wide model gets its columns by name through the hash index. */
static void test_wide_model_columns(void **state)
{
    (void)state;
    enum { NF = 40 };
    static char names[NF][8];
    const char *ptrs[NF];
    for (int i = 0; i < NF; i++) {
        snprintf(names[i], sizeof names[i], "f%d", i);
        ptrs[i] = names[i];
    }
    pd_model_schema_t s = {.name = "w", .version = "1", .task = PD_TASK_REGRESSION,
                           .n_features = NF, .feature_names = ptrs};
    pd_buf_t b;
    pd_buf_init(&b, 0);
    pd_buf_puts(&b, "{\"inputs\":[");
    double want[NF];
    for (int i = NF - 1; i >= 0; i--) {
        pd_buf_printf(&b, "%s{\"name\":\"f%d\",\"shape\":[1],\"datatype\":\"INT64\",\"data\":"
                      "[%d]}", i == NF - 1 ? "" : ",", i, i * 3);
        want[i] = i * 3;
    }
    pd_buf_puts(&b, "]}");
    expect_rows(&s, 0, b.data, 1, want);
    pd_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kserve_iris_example),
        cmocka_unit_test(test_oip_spec_example),
        cmocka_unit_test(test_feature_columns),
        cmocka_unit_test(test_datatypes_json),
        cmocka_unit_test(test_datatype_errors),
        cmocka_unit_test(test_shape_and_data_errors),
        cmocka_unit_test(test_layout_errors),
        cmocka_unit_test(test_missing_values),
        cmocka_unit_test(test_request_keys),
        cmocka_unit_test(test_body_errors),
        cmocka_unit_test(test_row_limit),
        cmocka_unit_test(test_wide_model_columns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
