"""Organism names as users type them: Latin, common, taxonomy ID; unknown and ambiguous ones refused."""

import pytest

from idtrack_sc.snapshot import ORGANISMS, organism_info, resolve_organism, taxonomy_id

#: CELLxGENE schema 7.x's organisms (its gene_info.yml), with their NCBI taxonomy IDs.
CELLXGENE = {
    "homo_sapiens": 9606,
    "mus_musculus": 10090,
    "caenorhabditis_elegans": 6239,
    "callithrix_jacchus": 9483,
    "danio_rerio": 7955,
    "drosophila_melanogaster": 7227,
    "gorilla_gorilla": 9595,  # CELLxGENE's NCBITaxon:9595 (Gorilla gorilla gorilla), as Ensembl's
    "macaca_fascicularis": 9541,
    "macaca_mulatta": 9544,
    "microcebus_murinus": 30608,
    "oryctolagus_cuniculus": 9986,
    "pan_troglodytes": 9598,
    "rattus_norvegicus": 10116,
    "sus_scrofa": 9823,
}


def test_every_cellxgene_organism_is_known_with_its_taxonomy_id():
    assert {n for n, o in ORGANISMS.items() if o.cellxgene} == set(CELLXGENE)
    for name, tax in CELLXGENE.items():
        assert resolve_organism(name) == name
        assert resolve_organism(tax) == name
        assert resolve_organism(str(tax)) == name
        assert resolve_organism(f"NCBITaxon:{tax}") == name  # CELLxGENE's organism_ontology_term_id
        assert taxonomy_id(name) == tax
        assert organism_info(name).taxonomy_str == str(tax)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("zebrafish", "danio_rerio"),
        ("Danio rerio", "danio_rerio"),
        ("danio-rerio", "danio_rerio"),
        ("rhesus macaque", "macaca_mulatta"),
        ("Rhesus", "macaca_mulatta"),
        ("crab-eating macaque", "macaca_fascicularis"),
        ("crab eating macaque", "macaca_fascicularis"),
        ("cynomolgus", "macaca_fascicularis"),
        ("C. elegans", "caenorhabditis_elegans"),
        ("c.elegans", "caenorhabditis_elegans"),
        ("fruit fly", "drosophila_melanogaster"),
        ("Drosophila", "drosophila_melanogaster"),
        ("mouse lemur", "microcebus_murinus"),
        ("chimp", "pan_troglodytes"),
        ("marmoset", "callithrix_jacchus"),
        ("rabbit", "oryctolagus_cuniculus"),
        ("pig", "sus_scrofa"),
        ("gorilla", "gorilla_gorilla"),
        (9593, "gorilla_gorilla"),  # the species
        ("Norway rat", "rattus_norvegicus"),
        (" Homo sapiens ", "homo_sapiens"),
        ("h.sapiens", "homo_sapiens"),
        ("mmusculus", "mus_musculus"),
    ],
)
def test_names_as_users_type_them(typed, expected):
    assert resolve_organism(typed) == expected


def test_gene_id_prefixes_are_those_of_the_gene_tables():
    assert organism_info("zebrafish").gene_prefixes == ("ENSDARG",)
    assert organism_info("fly").gene_prefixes == ("FBgn", "FBti")
    assert organism_info("worm").gene_prefixes == ("WBGene",)
    assert organism_info(9541).gene_prefixes == ("ENSMFAG",)
    prefixes = [p for o in ORGANISMS.values() for p in o.gene_prefixes]
    assert len(prefixes) == len(set(prefixes))


@pytest.mark.parametrize("typed", ["macaque", "Macaca"])
def test_an_ambiguous_name_names_the_candidates(typed):
    with pytest.raises(ValueError, match="ambiguous") as info:
        resolve_organism(typed)
    message = str(info.value)
    assert "macaca_mulatta (rhesus macaque, 9544)" in message
    assert "macaca_fascicularis (crab-eating macaque, 9541)" in message
    assert "danio_rerio (zebrafish, 7955)" in message  # and the list of known organisms


@pytest.mark.parametrize("typed", ["zebrafsh", "unicorn", 12345, "", None, True, 3.5])
def test_an_unknown_name_lists_the_known_organisms(typed):
    with pytest.raises(ValueError, match=r"Unknown organism|is a name or an NCBI taxonomy ID") as info:
        resolve_organism(typed)
    message = str(info.value)
    if isinstance(typed, str) or type(typed) is int:
        for name in CELLXGENE:
            assert name in message
