"""The shipped define2-1.xsl with its OID look-ups indexed (xsl:key), for rendering define.html fast.

The stylesheet finds each referenced definition by scanning every one of its kind
(``$g_seqItemDefs[@OID=$ItemOID]``, ``../../odm:ItemDef[@OID=...]``), once per item row, so its cost
grows with the square of the define's size (about 1 s CPU for a 30-dataset SDTM define). Each
rewrite below replaces such a scan by an ``xsl:key`` look-up of the same element kind, filtered to
the same parent the scan searched, so it selects the same nodes in the same (document) order: the
HTML is byte-identical (tests compare it with the shipped stylesheet's output). Only look-ups whose
value is a variable (context-free) are rewritten. The shipped file itself is unchanged; a
stylesheet none of the rewrites applies to is used as it is.
"""
from __future__ import annotations

import re

_KEYS = """
  <xsl:key name="tf-ItemDef" match="odm:ItemDef" use="@OID"/>
  <xsl:key name="tf-ItemGroupDef" match="odm:ItemGroupDef" use="@OID"/>
  <xsl:key name="tf-CodeList" match="odm:CodeList" use="@OID"/>
  <xsl:key name="tf-MethodDef" match="odm:MethodDef" use="@OID"/>
  <xsl:key name="tf-CommentDef" match="def:CommentDef" use="@OID"/>
  <xsl:key name="tf-ValueListDef" match="def:ValueListDef" use="@OID"/>
  <xsl:key name="tf-WhereClauseDef" match="def:WhereClauseDef" use="@OID"/>
  <xsl:key name="tf-ItemRef" match="odm:ItemRef" use="@ItemOID"/>
  <xsl:key name="tf-ValueListRef" match="def:ValueListRef" use="@ValueListOID"/>
  <xsl:key name="tf-ItemDef-Name" match="odm:ItemDef" use="@Name"/>
  <xsl:key name="tf-ItemGroupDef-Name" match="odm:ItemGroupDef" use="@Name"/>
  <xsl:key name="tf-ItemGroupDef-Domain" match="odm:ItemGroupDef" use="@Domain"/>
"""
# The global sequences of define2-1.xsl: children of $g_MetaDataVersion of one kind.
_SEQUENCES = {"ItemDefs": "ItemDef", "ItemGroupDefs": "ItemGroupDef", "CodeLists": "CodeList",
              "MethodDefs": "MethodDef", "CommentDefs": "CommentDef", "ValueListDefs": "ValueListDef",
              "WhereClauseDefs": "WhereClauseDef"}
_IN_MDV = "[generate-id(..)=generate-id($g_MetaDataVersion)]"
_VALUE = r"(\$[\w:./@-]+)"           # a variable or a path from one: the same value in any context

_REWRITES: tuple[tuple[re.Pattern, str], ...] = (
    # $g_seqItemDefs[@OID=$X] -> the ItemDef children of the MetaDataVersion with that OID
    (re.compile(r"\$g_seq(" + "|".join(_SEQUENCES) + r")\[@OID\s*=\s*" + _VALUE + r"\]"),
     lambda m: f"key('tf-{_SEQUENCES[m.group(1)]}',{m.group(2)}){_IN_MDV}"),
    # ../../odm:ItemDef[@OID=$X] from an ItemRef: the ItemDefs beside its ItemGroupDef/ValueListDef
    (re.compile(r"\.\./\.\./odm:ItemDef\[@OID\s*=\s*" + _VALUE + r"\]"),
     lambda m: f"key('tf-ItemDef',{m.group(1)})[generate-id(..)=generate-id(current()/../..)]"),
    # ../../odm:ItemDef/def:ValueListRef[@ValueListOID=$X]
    (re.compile(r"\.\./\.\./odm:ItemDef/def:ValueListRef\[@ValueListOID\s*=\s*" + _VALUE + r"\]"),
     lambda m: (f"key('tf-ValueListRef',{m.group(1)})[parent::odm:ItemDef]"
                f"[generate-id(../..)=generate-id(current()/../..)]")),
    # $g_seqItemGroupDefs/odm:ItemRef[@ItemOID=$X]: the dataset ItemRefs naming an item
    (re.compile(r"\$g_seqItemGroupDefs/odm:ItemRef\[@ItemOID\s*=\s*" + _VALUE + r"\]"),
     lambda m: (f"key('tf-ItemRef',{m.group(1)})[parent::odm:ItemGroupDef]"
                f"[generate-id(../..)=generate-id($g_MetaDataVersion)]")),
    # /odm:ODM/odm:Study/odm:MetaDataVersion/odm:ItemDef[@OID=$X]: of any Study and MetaDataVersion
    (re.compile(r"/odm:ODM/odm:Study/odm:MetaDataVersion/odm:(ItemDef|ItemGroupDef)\[@OID\s*=\s*" + _VALUE + r"\]"),
     lambda m: (f"key('tf-{m.group(1)}',{m.group(2)})"
                "[parent::odm:MetaDataVersion/parent::odm:Study/parent::odm:ODM[not(parent::*)]]")),
    # //odm:ItemGroupDef[@OID=$X]: any ItemGroupDef of the document
    (re.compile(r"//odm:ItemGroupDef\[@OID\s*=\s*" + _VALUE + r"\]"),
     lambda m: f"key('tf-ItemGroupDef',{m.group(1)})"),
    # $g_seqItemDefs[@Name='QVAL']: the ItemDefs of the MetaDataVersion with a name (once per dataset)
    (re.compile(r"\$g_seqItemDefs\[@Name\s*=\s*('[^']*')\]"),
     lambda m: f"key('tf-ItemDef-Name',{m.group(1)}){_IN_MDV}"),
    # ../odm:ItemGroupDef[@Name = $X] from an ItemGroupDef: its siblings with that name (SUPP--, parent links)
    (re.compile(r"\.\./odm:ItemGroupDef\[@Name\s*=\s*" + _VALUE + r"\]"),
     lambda m: f"key('tf-ItemGroupDef-Name',{m.group(1)})[generate-id(..)=generate-id(current()/..)]"),
    # $g_seqItemGroupDefs[@Domain = $X and ...]: the parent domain's ItemGroupDef (getParentDescription)
    (re.compile(r"\$g_seqItemGroupDefs\[@Domain\s*=\s*" + _VALUE + r"\s+and\s+([^\]]*)\]"),
     lambda m: f"key('tf-ItemGroupDef-Domain',{m.group(1)}){_IN_MDV}[{m.group(2)}]"),
)
_OUTPUT = re.compile(r"(<xsl:output\b[^>]*/>)")


def indexed_stylesheet(text: str) -> tuple[str, int]:
    """(the stylesheet text with keyed look-ups, number of look-ups rewritten); 0: unchanged."""
    rewritten, count = text, 0
    for pattern, replace in _REWRITES:
        rewritten, n = pattern.subn(replace, rewritten)
        count += n
    rewritten, declared = _OUTPUT.subn(lambda m: m.group(1) + _KEYS, rewritten, count=1)
    return (rewritten, count) if count and declared else (text, 0)
