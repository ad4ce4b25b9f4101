#!/usr/bin/python3
"""Writes the handcrafted corrupt models of tests/malformed/ and their expectations.

Run with /usr/bin/python3 (python3-onnx 1.12):  /usr/bin/python3 tests/malformed/make_malformed.py

Valid bases are built with onnx.helper; the corruptions are then made by hand, either with the
helper (graph-level problems the protobuf schema allows) or by writing protobuf wire bytes
directly (problems the schema does not allow: bad wire types, bad lengths, long varints, ...).

Output: tests/malformed/*.onnx, one .bin external-data file, and expected.tsv with one line per
model: file <TAB> StatusCode name <TAB> a substring of the expected error message.
The test (malformed_test.cpp) opens each model with petrel::Session::open and checks both.
"""
import os
import struct
import sys

import onnx
from onnx import TensorProto, helper

HERE = os.path.dirname(os.path.abspath(__file__))
OPSET = [helper.make_opsetid("", 13)]

# ---- a minimal protobuf wire writer (for the corruptions onnx.helper cannot express) ----


def varint(v):
    out = bytearray()
    v &= (1 << 64) - 1
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def key(field, wire):
    return varint((field << 3) | wire)


def f_varint(field, v):
    return key(field, 0) + varint(v)


def f_len(field, payload):
    if isinstance(payload, str):
        payload = payload.encode()
    return key(field, 2) + varint(len(payload)) + payload


def f_fixed32(field, v):
    return key(field, 5) + struct.pack("<I", v)


# ---- valid bases ----


def relu_model():
    """y = Relu(x), x: float[1,4]."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    node = helper.make_node("Relu", ["x"], ["y"], name="relu")
    g = helper.make_graph([node], "relu_graph", [x], [y])
    return helper.make_model(g, opset_imports=OPSET, producer_name="petrel-malformed")


def add_init_model(init):
    """y = Add(x, W) with the given initializer W (a TensorProto, possibly corrupt)."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, None)
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    node = helper.make_node("Add", ["x", init.name], ["y"], name="add")
    g = helper.make_graph([node], "init_graph", [x], [y], initializer=[init])
    return helper.make_model(g, opset_imports=OPSET, producer_name="petrel-malformed")


def graph_model(nodes, inputs, outputs, name="g", initializers=()):
    g = helper.make_graph(nodes, name, inputs, outputs, initializer=list(initializers))
    return helper.make_model(g, opset_imports=OPSET, producer_name="petrel-malformed")


def vi(name, shape=None, dt=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, dt, shape)


def ser(m):
    return m.SerializeToString()


def external_tensor(name, location, numel=16):
    t = TensorProto()
    t.name = name
    t.data_type = TensorProto.FLOAT
    t.dims.extend([numel])
    t.data_location = TensorProto.EXTERNAL
    e = t.external_data.add()
    e.key = "location"
    e.value = location
    return t


# ---- the cases: (file, bytes, StatusCode name, message substring) ----

cases = []
side_files = {}


def case(name, data, code, substring):
    assert "\t" not in substring and "\n" not in substring
    cases.append((name, data, code, substring))


base = ser(relu_model())

# 1. Empty file.
case("empty.onnx", b"", "InvalidModel", "the model file is empty")

# 2. Not protobuf: a text file. 'T' = 0x54 is the key of field 10 with wire type 4 (end group).
case("not_protobuf.onnx", b"This is not an ONNX model, just some text.\n", "InvalidModel",
     "protobuf: groups are not supported in ONNX files at byte 1")

# 3. A valid model cut in the middle of its graph field (field 7): the graph's length points
#    past the end of the file.
cut = base[: len(base) // 2]
assert len(base) == 102, "the expectation below was read off a 102-byte base model"
case("truncated.onnx", cut, "InvalidModel", "protobuf: length 74 runs past the end of its message (29 bytes left)")

# 4. Truncated inside a varint: ir_version's value bytes all have the continuation bit.
case("truncated_varint.onnx", key(1, 0) + b"\x80\x80\x80", "InvalidModel",
     "protobuf: truncated varint at byte 4")

# 5. Wire type 7 (does not exist) for a field after a valid model prefix.
case("bad_wire_type.onnx", base + key(3, 7) + b"\x00", "InvalidModel",
     "protobuf: bad wire type 7 for field 3")

# 6. A length-delimited field (doc_string, 6) whose length runs 1 MiB past the end of the file.
case("length_past_eof.onnx", base + key(6, 2) + varint(1 << 20) + b"short", "InvalidModel",
     "length 1048576 runs past the end of its message (5 bytes left)")

# 7. A varint longer than 10 bytes (model_version).
case("varint_too_long.onnx", base + key(5, 0) + b"\xff" * 11 + b"\x01", "InvalidModel",
     "protobuf: varint longer than 10 bytes")

# 8. Field number 0.
case("field_zero.onnx", base + key(0, 2) + varint(1) + b"x", "InvalidModel",
     "protobuf: invalid field number")

# 9. A known field with the wrong wire type: ir_version (varint) given as length-delimited.
case("wrong_wire_known_field.onnx", f_len(1, "7") + base, "InvalidModel",
     "wrong wire type 2 for ModelProto field 1 (expected 0)")

# 10. dims whose product overflows int64: [2^31, 2^31, 2^31], no data.
t = TensorProto()
t.name = "W"
t.data_type = TensorProto.FLOAT
t.dims.extend([1 << 31, 1 << 31, 1 << 31])
case("dims_overflow.onnx", ser(add_init_model(t)), "InvalidModel",
     "shape [2147483648,2147483648,2147483648] has more than 2^40 elements")

# 11. raw_data of 20 bytes for a float[2,3] (needs 24).
t = TensorProto()
t.name = "W"
t.data_type = TensorProto.FLOAT
t.dims.extend([2, 3])
t.raw_data = b"\x00" * 20
case("raw_data_size.onnx", ser(add_init_model(t)), "InvalidModel",
     "raw data has 20 bytes but its dims and type need 24")

# 12. float_data with 5 values for a float[2,3].
t = helper.make_tensor("W", TensorProto.FLOAT, [2, 3], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
del t.float_data[5]
case("float_data_count.onnx", ser(add_init_model(t)), "InvalidModel", "has 5 values but its dims need 6")

# 13. data_type 99 (not a TensorProto.DataType).
t = helper.make_tensor("W", TensorProto.FLOAT, [2], [1.0, 2.0])
t.data_type = 99
case("invalid_data_type.onnx", ser(add_init_model(t)), "InvalidModel", "invalid data_type 99")

# 14. External data that runs past the end of its (8-byte) file: float[16] needs 64 bytes.
side_files["ext_short.bin"] = b"\x00" * 8
case("external_past_eof.onnx", ser(add_init_model(external_tensor("W", "ext_short.bin"))), "InvalidModel",
     "external data [0, +64) runs past the end of ext_short.bin (8 bytes)")

# 15. External data with an absolute path.
case("external_abs_path.onnx", ser(add_init_model(external_tensor("W", "/etc/passwd"))), "InvalidModel",
     "external data location '/etc/passwd' must be a relative path inside the model folder")

# 16. External data with '..'.
case("external_dotdot.onnx", ser(add_init_model(external_tensor("W", "../malformed/ext_short.bin"))),
     "InvalidModel",
     "external data location '../malformed/ext_short.bin' must be a relative path inside the model folder")

# 17. External data file that does not exist.
case("external_missing.onnx", ser(add_init_model(external_tensor("W", "no_such_weights.bin"))),
     "InvalidModel", "tensor 'W': external data: no such file:")

# 18. A cycle between two nodes: a = Relu(b), b = Relu(a).
m = graph_model([helper.make_node("Relu", ["b"], ["a"], name="n1"),
                 helper.make_node("Relu", ["a"], ["b"], name="n2")],
                [vi("x", [1])], [vi("a", [1])], name="cyclic")
case("cycle.onnx", ser(m), "InvalidModel", "graph 'cyclic' has a cycle through node 'n1'")

# 19. A node input that nothing produces.
m = graph_model([helper.make_node("Add", ["x", "ghost"], ["y"], name="add")],
                [vi("x", [1])], [vi("y", [1])])
case("missing_input.onnx", ser(m), "InvalidModel",
     "input 1 'ghost' is not produced by any node and is not a graph input or initializer")

# 20. An op nobody implements.
m = graph_model([helper.make_node("FrobnicateTensor", ["x"], ["y"], name="frob")],
                [vi("x", [1])], [vi("y", [1])])
case("unknown_op.onnx", ser(m), "Unsupported", "operator 'FrobnicateTensor' is not implemented")

# 21. Conv with kernel_shape given as a float (the Conv kernel factory rejects it).
w = helper.make_tensor("W", TensorProto.FLOAT, [1, 1, 1, 1], [1.0])
m = graph_model([helper.make_node("Conv", ["x", "W"], ["y"], name="conv", kernel_shape=1.5)],
                [vi("x", [1, 1, 4, 4])], [vi("y", [1, 1, 4, 4])], initializers=[w])
case("attr_wrong_type.onnx", ser(m), "InvalidModel", "attribute 'kernel_shape' must be ints, got")

# 22. An attribute whose type number (AttributeProto.type, field 20) is 99. Written by hand:
#     the node is re-serialized with an extra attribute message appended.
m = relu_model()
attr_wire = f_len(1, "alpha") + f_fixed32(2, 0x3F800000) + f_varint(20, 99)
node_wire = m.graph.node[0].SerializeToString() + f_len(5, attr_wire)
rest = onnx.GraphProto()
rest.CopyFrom(m.graph)
del rest.node[:]
m.ClearField("graph")
case("attr_invalid_type.onnx", ser(m) + f_len(7, f_len(1, node_wire) + rest.SerializeToString()), "InvalidModel",
     "attribute has invalid type 99")

# 23. Two nodes producing the same output.
m = graph_model([helper.make_node("Relu", ["x"], ["y"], name="r1"),
                 helper.make_node("Neg", ["x"], ["y"], name="r2")],
                [vi("x", [1])], [vi("y", [1])], name="dup")
case("duplicate_output.onnx", ser(m), "InvalidModel", "graph 'dup': value 'y' is defined twice")

# 24. A graph output nothing produces.
m = graph_model([helper.make_node("Relu", ["x"], ["y"], name="r1")],
                [vi("x", [1])], [vi("y", [1]), vi("z", [1])], name="outs")
case("output_not_produced.onnx", ser(m), "InvalidModel", "graph 'outs': output 'z' is not produced by any node")

# 25. No graph at all (ir_version, opset_import, producer only).
m = relu_model()
m.ClearField("graph")
case("no_graph.onnx", ser(m), "InvalidModel", "the file has no graph")

# 26. Two graphs.
case("two_graphs.onnx", base + f_len(7, ser(relu_model().graph)), "InvalidModel",
     "the model has more than one graph")

# 27. A Constant node without a value attribute.
m = graph_model([helper.make_node("Constant", [], ["c"], name="const"),
                 helper.make_node("Add", ["x", "c"], ["y"], name="add")],
                [vi("x", [1])], [vi("y", [1])])
case("constant_no_value.onnx", ser(m), "InvalidModel", "Constant needs exactly one value attribute")

# 28. Subgraphs nested 40 deep (If in the then-branch of If in ...).


# The else branch is a trivial graph so the file grows linearly with the depth.
def nested_if_small(level, depth):
    out = "v%d" % level
    if level == depth:
        then_nodes = [helper.make_node("Identity", ["x"], [out], name="id%d" % level)]
    else:
        inner, inner_out = nested_if_small(level + 1, depth)
        then_nodes = [inner, helper.make_node("Identity", [inner_out], [out], name="id%d" % level)]
    then_g = helper.make_graph(then_nodes, "then%d" % level, [], [vi(out)])
    else_g = helper.make_graph([helper.make_node("Identity", ["x"], ["e%d" % level], name="e%d" % level)],
                               "else%d" % level, [], [vi("e%d" % level)])
    return helper.make_node("If", ["cond"], ["o%d" % level], name="if%d" % level,
                            then_branch=then_g, else_branch=else_g), "o%d" % level


top, top_out = nested_if_small(0, 40)
m = graph_model([top], [vi("cond", [], TensorProto.BOOL), vi("x", [1])], [vi(top_out)], name="deep")
case("deep_subgraphs.onnx", ser(m), "InvalidModel", "subgraphs nested more than 32 deep")

# 29. A string tensor with 2 strings for dims [3].
t = TensorProto()
t.name = "S"
t.data_type = TensorProto.STRING
t.dims.extend([3])
t.string_data.extend([b"a", b"b"])
m = graph_model([helper.make_node("Identity", ["S"], ["y"], name="id")], [], [vi("y", [3], TensorProto.STRING)],
                initializers=[t])
case("string_count.onnx", ser(m), "InvalidModel", "has 2 strings but its dims need 3")

# 30. A node without op_type.
m = relu_model()
m.graph.node[0].op_type = ""
case("empty_op_type.onnx", ser(m), "InvalidModel", "a node has no op_type (node 'relu')")

# 31. An initializer without a name.
t = helper.make_tensor("", TensorProto.FLOAT, [1], [1.0])
m = graph_model([helper.make_node("Relu", ["x"], ["y"], name="r")], [vi("x", [1])], [vi("y", [1])],
                initializers=[t], name="anon")
case("unnamed_initializer.onnx", ser(m), "InvalidModel", "graph 'anon': initializer has an empty name")

# 32. External data whose declared length does not match the dims.
t = external_tensor("W", "ext_short.bin", numel=2)
e = t.external_data.add()
e.key = "length"
e.value = "4"
case("external_length.onnx", ser(add_init_model(t)), "InvalidModel",
     "tensor 'W': external data length 4 does not match its dims (8 bytes)")


def main():
    # Remove stale outputs so a renamed case does not leave an unlisted file behind.
    for f in os.listdir(HERE):
        if f.endswith(".onnx") or f.endswith(".bin"):
            os.remove(os.path.join(HERE, f))
    names = set()
    for name, data, code, sub in cases:
        assert name not in names, name
        names.add(name)
        assert len(data) < 20 * 1024, (name, len(data))
        with open(os.path.join(HERE, name), "wb") as fh:
            fh.write(data)
    for name, data in side_files.items():
        with open(os.path.join(HERE, name), "wb") as fh:
            fh.write(data)
    with open(os.path.join(HERE, "expected.tsv"), "w") as fh:
        fh.write("# file\tStatusCode\tsubstring of the error message (generated by make_malformed.py)\n")
        for name, _, code, sub in cases:
            fh.write("%s\t%s\t%s\n" % (name, code, sub))
    print("wrote %d models to %s" % (len(cases), HERE), file=sys.stderr)


if __name__ == "__main__":
    main()
