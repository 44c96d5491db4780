"""Renders the op table into Cython, before cythonize runs (setup.py calls
render_all). Each table module holds rows of data; each template here turns
rows into kernels, nodes, ops and bindings; the output goes to
src/_generated/, rewritten only when its text changes so that unchanged
builds stay incremental.

Row preparation happens here, in Python, so the templates stay close to
the code they produce: C expressions per dtype, the tensor formula, the
saved values and the binding functions are computed once per row.
"""
import os
import re

from Cython.Tempita import sub as tempita_sub

from . import formula, table_unary

HERE = os.path.dirname(os.path.abspath(__file__))

CTYPE = {'F32': 'float', 'F64': 'double', 'I64': 'int64_t', 'BOOL': 'uint8_t', 'F16': 'uint16_t',
         'I8': 'int8_t', 'I16': 'int16_t', 'I32': 'int32_t', 'U8': 'uint8_t'}
OPT = dict(CTYPE, F16='float')
ALL = ['F32', 'F64', 'I64', 'BOOL', 'F16', 'I8', 'I16', 'I32', 'U8']
FLOATS = ['F32', 'F64', 'F16']
INTS = ['I64', 'I8', 'I16', 'I32', 'U8']


def LD(code, e):
    return f'cg_h2f({e})' if code == 'F16' else e


def SV(code, e):
    return f'cg_f2h({e})' if code == 'F16' else e


class Row:
    """A table row with everything its template needs."""

    def __init__(self, **kw):
        self.__dict__.update(kw)


def _sub_params(expr, params, spell):
    for k, (pname, _) in enumerate(params):
        expr = re.sub(r'\b%s\b' % pname, spell(k), expr)
    return expr


def _signature(params):
    parts = []
    for pname, default in params:
        parts.append(pname if default is None else f'{pname}={default!r}')
    return ''.join(', ' + p for p in parts)


def bindings(r, api):
    """The Python-level functions of a row, and where they are installed."""
    sig, call = _signature(r.params), r.param_call
    name = r.name
    out, methods, functional = [], [], []
    if 'fn' in api:
        out.append(
            f'def {name}(input{sig}, *, out=None):\n'
            f'    cdef Tensor a = input_arg(input, "{name}")\n'
            f'    if out is not None:\n'
            f'        check_out(out, "{name}", a)\n'
            + (f'        check_out_dtype(out, op_result_dtype(a))\n' if r.out_exact else '') +
            f'        return write_out(op_{name}(a{call}), out)\n'
            f'    return op_{name}(a{call})')
    if 'fn_' in api:
        out.append(f'def {name}_(input{sig}):\n'
                   f'    return op_{name}_(input_arg(input, "{name}_"){call})')
    if 'meth' in api:
        out.append(f'def _tensor_{name}(self{sig}):\n'
                   f'    return op_{name}(input_arg(self, "{name}"){call})')
        methods.append((name, f'_tensor_{name}'))
    if 'meth_' in api:
        out.append(f'def _tensor_{name}_(self{sig}):\n'
                   f'    return op_{name}_(input_arg(self, "{name}_"){call})')
        methods.append((name + '_', f'_tensor_{name}_'))
    if 'F' in api:
        if 'F_' in api:
            out.append(f'def _functional_{name}(input{sig}, inplace=False):\n'
                       f'    cdef Tensor a = input_arg(input, "{name}")\n'
                       f'    return op_{name}_(a{call}) if inplace else op_{name}(a{call})')
            out.append(f'def _functional_{name}_(input{sig}):\n'
                       f'    return op_{name}_(input_arg(input, "{name}_"){call})')
            functional.append((name + '_', f'_functional_{name}_'))
        else:
            out.append(f'def _functional_{name}(input{sig}):\n'
                       f'    return op_{name}(input_arg(input, "{name}"){call})')
        functional.append((name, f'_functional_{name}'))
    return out, methods, functional


def prepare_unary(row):
    params = tuple(row.get('params', ()))
    grad = formula.parse(row['grad'])
    reads = [v for v in ('x', 'y') if v in formula.variables(row['grad'])]
    ints = row['ints']
    fwd_codes = FLOATS + (INTS if ints == 'native' else [])
    fwd = {}
    for code in fwd_codes:
        if code == 'F16':
            continue
        if code in INTS:
            e = row['ifwd'].replace('<T>', f'<{CTYPE[code]}>')
            fwd[code] = _sub_params(e, params, lambda k: f'prm[{k}]')
        else:
            ct = OPT[code]
            e = row['fwd'].replace('<CT>', f'<{ct}>')
            fwd[code] = _sub_params(e, params, lambda k, ct=ct: f'(<{ct}>prm[{k}])')
    per_op = row.get('half') == 'per_op'
    bwd = {}
    for code in FLOATS:
        ct = OPT[code]
        names = {p: f'(<{ct}>prm[{k}])' for k, (p, _) in enumerate(params)}
        if code != 'F16' or per_op:
            bwd[code] = formula.ScalarRenderer(ct, names, half=(code == 'F16')).render(grad)
    tensor_names = {p: f'self.prm[{k}]' for k, (p, _) in enumerate(params)}
    saved = {'x': 'x', 'y': 'y'}
    r = Row(
        name=row['name'], NAME=row['name'].upper(), node=row['node'], ints=ints,
        kernel=row.get('kernel', row['name'] + '_cpu'), params=params,
        bool_error=row.get('bool_error', '"%s" not implemented for \'Bool\'' % row.get('kernel', row['name'] + '_cpu')),
        check=row.get('check'), bool_error_type='RuntimeError' if 'bool_error' in row else 'NotImplementedError',
        inplace_grad=row.get('inplace_grad', True),
        param_names=[p for p, _ in params], out_exact=row.get('out_dtype') == 'exact',
        reads=reads, nops=2 + len(reads), fwd_codes=fwd_codes, fwd=fwd,
        scalar_fwd=row['fwd'].replace('<CT>', '<real_t>'),
        bwd=bwd, half_per_op=per_op,
        formula=formula.TensorRenderer(tensor_names).render(grad),
        saved_args=', '.join(saved[v] if v in reads else 'None' for v in ('x', 'y')),
        param_decl=''.join(f', double {p}' for p, _ in params),
        param_call=''.join(f', {p}' for p, _ in params),
    )
    r.bindings, r.methods, r.functional = bindings(r, row.get('api', ()))
    r.meta = dict(name=r.name, node=r.node, ints=ints, params=params, api=tuple(row.get('api', ())),
                  domain=row.get('domain', (-3.0, 3.0)), kernel=r.kernel)
    return r


def write_if_changed(path, text):
    old = None
    if os.path.exists(path):
        with open(path, encoding='utf-8') as f:
            old = f.read()
    if old != text:
        with open(path, 'w', encoding='utf-8') as f:
            f.write(text)


def render_template(name, **namespace):
    with open(os.path.join(HERE, name), encoding='utf-8') as f:
        return tempita_sub(f.read(), **namespace)


def render_all(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    formula.register_table_ops(row['name'] for row in table_unary.TABLE if not row.get('params'))
    common = dict(CTYPE=CTYPE, OPT=OPT, ALL=ALL, FLOATS=FLOATS, INTS=INTS, LD=LD, SV=SV)
    write_if_changed(os.path.join(out_dir, 'ops_unary.pxi'),
                     render_template('unary.pxi.tp', UNARY=table_unary.LEGACY))
    ops = [prepare_unary(row) for row in table_unary.TABLE]
    write_if_changed(os.path.join(out_dir, 'ops_unary_table.pxi'),
                     render_template('unary_table.pxi.tp', ops=ops, **common))
