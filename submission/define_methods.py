"""Method texts a reviewer can read, said in plain English from the SDTM spec's rule objects.

The engine keeps a short machine text per derived variable ("Conditional: if AEONGO == 'Yes';
otherwise as specified"). Here the same rule object is said in full:
    AEENRTPT = 'ONGOING' when the CRF field AEONGO is 'Yes'; otherwise blank
    USUBJID = STUDYID, '-' and SUBJNO joined
    ISSTRESN = the number in ISSTRESC
Expressions are read with Python's `ast` (the spec language is a subset of Python expressions) and
each node kind has one phrase. A name that is not a variable of the domain is a raw CRF field. A
text the spec writes itself (`method:`) is never replaced.
"""
from __future__ import annotations

import ast
from typing import Callable, Mapping

# Columns the findings transposition (melt) generates: the value and unit of each test on the form.
_GENERATED = {"_VALUE": "the result collected on the CRF", "_UNIT": "the unit collected on the CRF"}
_OPS = {ast.Eq: "is", ast.NotEq: "is not", ast.Lt: "is less than", ast.LtE: "is at most",
        ast.Gt: "is greater than", ast.GtE: "is at least", ast.In: "is one of", ast.NotIn: "is not one of"}
_ARITH = {ast.Add: "plus", ast.Sub: "minus", ast.Mult: "times", ast.Div: "divided by"}
_FUNCTIONS: dict[str, Callable[[list[str]], str]] = {
    "num": lambda a: f"the number in {a[0]}",
    "blank": lambda a: f"{a[0]} is blank",
    "present": lambda a: f"{a[0]} is given",
    "upper": lambda a: f"{a[0]} in upper case",
    "lower": lambda a: f"{a[0]} in lower case",
    "strip": lambda a: f"{a[0]} without surrounding spaces",
    "length": lambda a: f"the length of {a[0]}",
    "contains": lambda a: f"{a[0]} contains {a[1]}",
    "icontains": lambda a: f"{a[0]} contains {a[1]} (any case)",
    "startswith": lambda a: f"{a[0]} starts with {a[1]}",
    "endswith": lambda a: f"{a[0]} ends with {a[1]}",
    "substr": lambda a: (f"{a[0]} from character {a[1]}" + (f", {a[2]} characters" if len(a) > 2 else "")),
    "coalesce": lambda a: "the first given of " + ", ".join(a),
    "matches": lambda a: f"{a[0]} matches the pattern {a[1]}",
    "latest": lambda a: "the latest of " + ", ".join(a),
    "earliest": lambda a: "the earliest of " + ", ".join(a),
    "iso_hours": lambda a: f"{a[0]} hours as an ISO 8601 duration",
    "add_days": lambda a: f"{a[0]} plus {a[1]} days",
}


class _Say(ast.NodeVisitor):
    def __init__(self, known: set[str]):
        self.known = known

    def say(self, node) -> str:
        return self.visit(node)

    def generic_visit(self, node):          # anything unforeseen: the expression as written
        return ast.unparse(node)

    def visit_Expression(self, node):
        return self.say(node.body)

    def visit_Name(self, node):
        name = node.id[4:] if node.id.startswith("raw_") else node.id
        if name in _GENERATED:
            return _GENERATED[name]
        return name if name in self.known else f"the CRF field {name}"

    def visit_Attribute(self, node):        # DM.RFSTDTC, raw.AETERM
        base = ast.unparse(node.value)
        if base == "raw":
            return f"the CRF field {node.attr}"
        return f"{base}.{node.attr}"

    def visit_Constant(self, node):
        return f"'{node.value}'" if isinstance(node.value, str) else str(node.value)

    def visit_List(self, node):
        return "(" + ", ".join(self.say(e) for e in node.elts) + ")"

    visit_Tuple = visit_List

    def visit_BoolOp(self, node):
        word = " and " if isinstance(node.op, ast.And) else " or "
        return word.join(f"({self.say(v)})" if isinstance(v, ast.BoolOp) else self.say(v) for v in node.values)

    def visit_UnaryOp(self, node):
        if isinstance(node.op, ast.Not):
            return f"not ({self.say(node.operand)})"
        return ast.unparse(node)

    def visit_Compare(self, node):
        parts = [self.say(node.left)]
        for op, right in zip(node.ops, node.comparators):
            parts += [_OPS.get(type(op), ast.unparse(op) if hasattr(ast, "unparse") else "?"), self.say(right)]
        return " ".join(parts)

    def visit_BinOp(self, node):
        word = _ARITH.get(type(node.op))
        if word is None:
            return ast.unparse(node)
        return f"{self.say(node.left)} {word} {self.say(node.right)}"

    def visit_Call(self, node):
        name = node.func.id if isinstance(node.func, ast.Name) else None
        phrase = _FUNCTIONS.get(name)
        if phrase is None:
            return ast.unparse(node)
        return phrase([self.say(a) for a in node.args])


def say_expression(text: str, known: set[str]) -> str:
    """An expression of the spec language in words; `known` are the domain's variable names."""
    try:
        tree = ast.parse(str(text).replace("raw.", "raw_"), mode="eval")
    except SyntaxError:
        return str(text)
    return _Say(set(known)).say(tree)


def _value(rule, known: set[str]) -> str:
    """What one rule (a `then`/`else` branch or a whole rule) gives, as a phrase."""
    kind, value = rule.kind, rule.value
    if kind == "constant":
        if value in (None, ""):
            return "blank"
        text = str(value)
        if text.startswith("${") and text.endswith("}") and text.count("${") == 1:
            return f"the study.yaml value {text[2:-1]}"       # ${study.title} -> study.yaml study.title
        return f"'{text}'"
    if kind == "from":
        text = say_expression(str(value), known)
        ct = rule.get("ct")
        if rule.get("map"):
            text += " recoded as " + ", ".join(f"'{k}' -> '{v}'" for k, v in rule.get("map").items())
        if ct:
            text += f" as its term in the CT codelist {ct}"
        return text
    if kind == "expr":
        return say_expression(str(value), known)
    if kind == "template":
        return _template(str(value), known)
    if kind == "when":
        return _when(rule, known)
    return _SAY_KIND[kind](rule, known) if kind in _SAY_KIND else f"derived ({kind})"


def _template(text: str, known: set[str]) -> str:
    import re
    parts = [p for p in re.split(r"(\{[^}]+\})", text) if p]
    words = []
    for p in parts:
        if p.startswith("{") and p.endswith("}"):
            words.append(say_expression(p[1:-1], known))
        else:
            words.append(f"'{p}'")
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " and " + words[-1] + " joined"


def _when(rule, known: set[str]) -> str:
    branches = [f"{_value(then, known)} when {say_expression(cond, known)}" for cond, then in rule.value]
    otherwise = rule.get("else")
    tail = _value(otherwise, known) if otherwise is not None else "blank"
    return "; ".join(branches) + f"; otherwise {tail}"


def _where(v) -> str:
    return f" where {v['where']}" if isinstance(v, dict) and v.get("where") else ""


_SAY_KIND: dict[str, Callable] = {
    "seq": lambda r, k: "a number 1, 2, 3 ... for each record of a subject, in the order of the dataset keys",
    "study_day": lambda r, k: (lambda ref: f"the study day of {r.value}: its date minus {ref} plus 1 on or after "
                                           f"{ref}, minus {ref} before it (there is no day 0)")(r.get("ref", "DM.RFSTDTC")),
    "epoch": lambda r, k: f"the study epoch (study.yaml epochs) the subject was in on {r.value}",
    "visit": lambda r, k: f"the visit name of the CRF visit label {r.value} in the study's visit schedule",
    "visitnum": lambda r, k: f"the visit number of the CRF visit label {r.value} in the study's visit schedule",
    "visitdy": lambda r, k: "the planned study day of the visit in the study's visit schedule (study.yaml visits)",
    "datetime": lambda r, k: "the CRF date" + (" and time" if isinstance(r.value, dict) and r.value.get("time") else "")
                             + " as ISO 8601; unknown parts are left out",
    "aggregate": lambda r, k: (f"the {r.value.get('fn', 'one')} of {r.value['domain']}.{r.value['value']} of the "
                               f"subject{_where(r.value)}"),
    "elapsed": lambda r, k: f"the ISO 8601 duration from {r.value['start']} to {r.value['end']}",
    "function": lambda r, k: f"computed by the study function {r.value if isinstance(r.value, str) else r.value}",
    "standardize": lambda r, k: {
        "c": f"{r.value['result']} converted to the standard unit of the test (the study's unit table), as text",
        "n": f"{r.value['result']} converted to the standard unit of the test (the study's unit table), as a number",
        "u": "the standard unit of the test (the study's unit table)"}[r.value["output"]],
    "baseline": lambda r, k: (f"'Y' on the last record per subject and {', '.join(r.value.get('by') or ['test'])} "
                              f"with a non-missing {r.value.get('value', r.value['date'])} dated on or before "
                              f"{r.value.get('ref', 'DM.RFXSTDTC')}; otherwise blank"),
}


def _working_notes(text: str, spec, known: set[str], depth: int = 2) -> list[str]:
    """"X = ..." for each working (helper, not submitted) variable a text names, one level deep per call."""
    import re
    notes = []
    for name in sorted(spec.working):
        if re.search(rf"(?<![A-Za-z0-9_.]){re.escape(name)}(?![A-Za-z0-9_])", text):
            said = _value(spec.variables[name], known)
            notes.append(f"{name} = {said}")
            if depth > 1:
                notes += [n for n in _working_notes(said, spec, known, depth - 1) if n not in notes]
    return notes


def method_texts(specs, dataset_variables: Mapping[str, set[str]] | None = None) -> dict[str, str]:
    """"DS.VAR" -> plain-English method of every Derived spec variable without its own `method:`;
    helper (working) variables it uses are said after it ("; where PARTCD = ...")."""
    out = {}
    for spec in specs:
        known = set(dataset_variables.get(spec.dataset, ())) if dataset_variables else set(spec.variables)
        known |= set(spec.variables)
        for name, rule in spec.variables.items():
            if name in spec.working or rule.get("method") or rule.origin != "Derived":
                continue
            text = f"{name} = {_value(rule, known)}"
            notes = [n for n in _working_notes(text, spec, known) if not n.startswith(f"{name} = ")]
            out[f"{spec.dataset}.{name}"] = text + (f"; where {'; '.join(notes)}" if notes else "")
    return out
