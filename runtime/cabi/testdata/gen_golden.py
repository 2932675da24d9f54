# Prints the golden layout table of layout_test.go. Run with definitions.py from
# github.com/WebAssembly/component-model (design/mvp/canonical-abi/) importable as "defs".
import defs as d
R=d.RecordType; F=d.FieldType; V=d.VariantType; C=d.CaseType
def rec(*ts): return R([F(f"f{i}",t) for i,t in enumerate(ts)])
def var(*ts): return V([C(f"c{i}",t) for i,t in enumerate(ts)])
types = {
 "bool": d.BoolType(), "s8": d.S8Type(), "u16": d.U16Type(), "s32": d.S32Type(), "u64": d.U64Type(),
 "f32": d.F32Type(), "f64": d.F64Type(), "char": d.CharType(), "string": d.StringType(),
 "list<u8>": d.ListType(d.U8Type()),
 "record<u8,u64,string,f32>": rec(d.U8Type(), d.U64Type(), d.StringType(), d.F32Type()),
 "record<u8,u16>": rec(d.U8Type(), d.U16Type()),
 "tuple<u8,f64,u8>": d.TupleType([d.U8Type(), d.F64Type(), d.U8Type()]),
 "variant<u32,f32,u64,string,_>": var(d.U32Type(), d.F32Type(), d.U64Type(), d.StringType(), None),
 "variant<f32,f32>": var(d.F32Type(), d.F32Type()),
 "variant<f64,u32>": var(d.F64Type(), d.U32Type()),
 "variant<_,u8>": var(None, d.U8Type()),
 "variant300": V([C(f"c{i}", None) for i in range(300)]),
 "enum3": d.EnumType(["x","y","z"]),
 "option<string>": d.OptionType(d.StringType()),
 "option<option<u8>>": d.OptionType(d.OptionType(d.U8Type())),
 "result<_,_>": d.ResultType(None, None),
 "result<u64,string>": d.ResultType(d.U64Type(), d.StringType()),
 "result<list<u8>,enum3>": d.ResultType(d.ListType(d.U8Type()), d.EnumType(["x","y","z"])),
 "flags3": d.FlagsType(["a","b","c"]),
 "flags11": d.FlagsType([f"l{i}" for i in range(11)]),
 "flags20": d.FlagsType([f"l{i}" for i in range(20)]),
 "flags32": d.FlagsType([f"l{i}" for i in range(32)]),
}
opts = d.LiftLowerOptions(); opts.memory = d.MemInst(bytearray(0), 'i32')
for n,t in types.items():
  fl = d.flatten_type(t, opts)
  print(f'\t{{"{n}", {d.elem_size(t,"i32")}, {d.alignment(t,"i32")}, "{" ".join(fl)}"}},')
