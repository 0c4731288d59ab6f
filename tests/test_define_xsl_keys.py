"""define.html rendered with the keyed stylesheet (define_xsl_keys) is byte-identical to the shipped
define2-1.xsl run by lxml as it is (the expected bytes never come from the rewrite)."""
from __future__ import annotations

import copy
import re

from lxml import etree

from test_define import adam_define, sdtm_define
from trialforge.submission.define_html import STYLESHEET, render_define_html
from trialforge.submission.define_xsl_keys import indexed_stylesheet

NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3", "def": "http://www.cdisc.org/ns/def/v2.1"}


def _shipped_html(define) -> bytes:
    return bytes(etree.XSLT(etree.parse(str(STYLESHEET)))(etree.parse(str(define))))


def test_global_sequences_are_children_of_the_metadataversion():
    """The rewrite of $g_seqX[@OID=..] to a key filtered to $g_MetaDataVersion assumes this."""
    text = STYLESHEET.read_text(encoding="utf-8")
    for seq, element in (("ItemDefs", "odm:ItemDef"), ("ItemGroupDefs", "odm:ItemGroupDef"),
                         ("CodeLists", "odm:CodeList"), ("MethodDefs", "odm:MethodDef"),
                         ("CommentDefs", "def:CommentDef"), ("ValueListDefs", "def:ValueListDef"),
                         ("WhereClauseDefs", "def:WhereClauseDef")):
        assert f'<xsl:variable name="g_seq{seq}" select="$g_MetaDataVersion/{element}"/>' in text


def test_rewrites_only_variable_valued_lookups():
    text, count = indexed_stylesheet(STYLESHEET.read_text(encoding="utf-8"))
    assert count >= 45
    assert text.count("<xsl:key ") == 12
    assert not re.search(r"\$g_seqItemDefs\[@OID=\$", text)        # every scan of ItemDefs by a variable
    # a look-up by a value relative to the candidate is a different question and stays a scan
    same, n = indexed_stylesheet('<xsl:stylesheet><xsl:output method="html"/>'
                                 '<x select="$g_seqItemDefs[@OID=@ItemOID]"/></xsl:stylesheet>')
    assert n == 0 and "$g_seqItemDefs[@OID=@ItemOID]" in same


def test_a_stylesheet_without_output_element_is_left_as_it_is():
    text = '<xsl:stylesheet><x select="$g_seqItemDefs[@OID=$a]"/></xsl:stylesheet>'
    assert indexed_stylesheet(text) == (text, 0)


def test_sdtm_and_adam_define_html_match_the_shipped_stylesheet(tmp_path):
    for define in (sdtm_define(tmp_path / "s"), adam_define(tmp_path / "a")):
        assert render_define_html(define).read_bytes() == _shipped_html(define)


def test_unresolved_references_and_a_second_metadataversion_render_the_same(tmp_path):
    """Scopes matter: the keyed look-ups must not find an OID in another Study's MetaDataVersion,
    and a reference to nothing must render as the shipped stylesheet renders it ([unresolved])."""
    define = sdtm_define(tmp_path)
    doc = etree.parse(str(define))
    root = doc.getroot()
    study = root.find("odm:Study", NS)
    mdv = study.find("odm:MetaDataVersion", NS)
    # references to definitions that do not exist
    ref = mdv.find("odm:ItemGroupDef/odm:ItemRef", NS)
    ref.set("ItemOID", "IT.NOWHERE")
    where = mdv.find("def:ValueListDef/odm:ItemRef/def:WhereClauseRef", NS)
    where.set("WhereClauseOID", "WC.NOWHERE")
    code = mdv.find("odm:ItemDef/odm:CodeListRef", NS)
    code.set("CodeListOID", "CL.NOWHERE")
    # a second study whose definitions share every OID but carry other names
    other = copy.deepcopy(study)
    for node in other.iter("{%s}ItemDef" % NS["odm"], "{%s}ItemGroupDef" % NS["odm"]):
        node.set("Name", "X" + node.get("Name"))
    root.append(other)
    changed = tmp_path / "changed.xml"
    doc.write(str(changed), xml_declaration=True, encoding="UTF-8")
    html = render_define_html(changed, out=tmp_path / "changed.html").read_bytes()
    expected = _shipped_html(changed)
    assert b"unresolved" in expected
    assert html == expected
