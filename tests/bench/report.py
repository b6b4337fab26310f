"""Budgets of issue 7, and the report: ``results.json`` (machine readable) and
``results.md`` (the same figures as Markdown tables, each next to its budget ✅/❌)."""

import json
from pathlib import Path

# Budgets (issue 7, on this 2-core machine, PostgreSQL, N=20)
PAGE_MAX_QUERIES = 25
PAGE_MAX_RATIO = 3.0
AUTOSAVE_MEDIAN_MS = 30.0
SEARCH_MEDIAN_MS = 100.0
GRID_PDF_S = 1.0
ANNUAL_REPORT_PDF_S = 3.0  # issue 10
BATCH_100_S = 60.0
HOLDERS_AWARDS = 20_000  # issue 10: the holders file of 20 000 passages (export_holders)
HOLDERS_S = 10.0
HOLDERS_PEAK_MIB = 150.0
LOAD_P95_MS = 250.0

OK, KO = "✅", "❌"


def mark(ok: bool | None) -> str:
    return "" if ok is None else (OK if ok else KO)


def judge_page(result: dict) -> dict:
    """Fill ``budget`` (each check) and ``budget_ok`` of one page result."""
    checks = {}
    if result.get("error") or result.get("status") is None:
        checks["status"] = False
    else:
        expected = 200
        checks["status"] = result.get("statuses", [result["status"]]) == [expected]
        checks["queries"] = result["queries"] <= PAGE_MAX_QUERIES
        # A "fresh" row measures what a page serves from the cache, computed again: shown
        # with its ratio, judged on its queries only.
        if result.get("ratio") is not None and result.get("group") != "fresh":
            checks["ratio"] = result["ratio"] <= PAGE_MAX_RATIO
        if result.get("group") == "search":
            checks["median"] = result["median_ms"] <= SEARCH_MEDIAN_MS
        if result.get("group") == "autosave":
            checks["median"] = result["median_ms"] <= AUTOSAVE_MEDIAN_MS
    result["budget"] = checks
    result["budget_ok"] = all(checks.values())
    return result


# ---------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------
def write(results: dict, out_dir: Path) -> tuple[Path, Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / "results.json", out_dir / "results.md"
    json_path.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str) + "\n",
                         encoding="utf-8")
    md_path.write_text(markdown(results), encoding="utf-8")
    return json_path, md_path


def _num(value, digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, int):
        return f"{value:,}".replace(",", " ")
    return f"{value:,.{digits}f}".replace(",", " ")


def _kb(size) -> str:
    return "—" if size is None else f"{size / 1024:.1f}"


def _table(headers: list[str], rows: list[list[str]], align: str) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |",
             "|" + "|".join({"l": "---", "r": "---:", "c": ":-:"}[a] for a in align) + "|"]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return lines


def _page_rows(pages: list[dict]) -> list[list[str]]:
    rows = []
    for p in pages:
        budget = p.get("budget", {})
        status = p.get("status")
        status_cell = (f"{status} {mark(budget.get('status'))}" if status is not None
                       else f"erreur {KO}")
        median = _num(p.get("median_ms"))
        if "median" in budget:
            median = f"{median} {mark(budget['median'])}"
        rows.append([
            p["label"], f"`{p['url_name']}`", p.get("user", ""), status_cell,
            f"{_num(p.get('queries'))} {mark(budget.get('queries'))}".strip(),
            median, _num(p.get("p95_ms")), _kb(p.get("size")), _num(p.get("floor_median_ms")),
            f"{_num(p.get('ratio'), 2)} {mark(budget.get('ratio'))}".strip(),
            mark(p.get("budget_ok")),
        ])
    return rows


def markdown(results: dict) -> str:
    meta = results.get("meta", {})
    scale = results.get("scale", {})
    lines = [
        "# Banc de mesure des performances",
        "",
        f"- Date : {meta.get('generated_at', '—')} ; commit `{meta.get('git_commit', '—')}`"
        + (" (arbre modifié)" if meta.get("git_dirty") else ""),
        f"- Base : {results.get('database', {}).get('vendor', '—')} "
        f"({results.get('database', {}).get('name', '—')}) ; broker : "
        f"{results.get('broker') or 'aucun (tâches sur place)'} ; DEBUG "
        f"{'activé' if meta.get('debug') else 'désactivé'}",
        f"- Volume : {_num(scale.get('registrations'))} inscriptions, "
        f"{_num(scale.get('grids'))} grilles, {_num(scale.get('criterion_results'))} "
        f"résultats par critère, {_num(scale.get('centres'))} centres"
        + (f" (SCALE={scale['requested']} demandé)" if scale.get("requested") else ""),
        f"- Mesure : {meta.get('warmup', '—')} requêtes de chauffe puis "
        f"{meta.get('repeat', '—')} requêtes mesurées par page (temps serveur en "
        "processus, client de test Django) ; plancher = vue nue, une requête SQL, gabarit de "
        "même taille.",
        "",
        f"Budgets : ≤ {PAGE_MAX_QUERIES} requêtes SQL par page, médiane ≤ {PAGE_MAX_RATIO:g}× "
        f"le plancher ; enregistrement d'un champ ≤ {AUTOSAVE_MEDIAN_MS:g} ms ; recherche ≤ "
        f"{SEARCH_MEDIAN_MS:g} ms ; PDF de grille ≤ {GRID_PDF_S:g} s ; 100 PDF ≤ "
        f"{BATCH_100_S:g} s ; fichier des titulaires ({_num(HOLDERS_AWARDS)} passages) ≤ "
        f"{HOLDERS_S:g} s et ≤ {HOLDERS_PEAK_MIB:g} Mo de mémoire ; charge : 0 erreur, 0 mise "
        f"à jour perdue, p95 ≤ {LOAD_P95_MS:g} ms.",
        "",
        "## Pages",
        "",
    ]
    headers = ["Page", "Vue", "Utilisateur", "HTTP", "Requêtes SQL", "Médiane (ms)",
               "p95 (ms)", "Taille (Ko)", "Plancher (ms)", "Ratio", "Budget"]
    lines += _table(headers, _page_rows(results.get("pages", [])), "lllcrrrrrrc")

    search = [p for p in results.get("pages", []) if p.get("group") == "search"]
    if search:
        lines += ["", f"## Recherche de candidats (médiane ≤ {SEARCH_MEDIAN_MS:g} ms)", ""]
        lines += _table(
            ["Recherche", "Utilisateur", "HTTP", "Médiane (ms)", "p95 (ms)", "Budget"],
            [[p["label"], p.get("user", ""), _num(p.get("status")),
              _num(p.get("median_ms")), _num(p.get("p95_ms")),
              mark(p.get("budget", {}).get("median", False)
                   and p.get("budget", {}).get("status", False))]
             for p in search], "llcrrc")

    lines += ["", "## PDF", ""]
    pdf_rows = []
    for key, label in [("grid", "Grille signée"), ("pv", "Procès-verbal de délibération"),
                       ("annual_report", "Rapport annuel d'activité")]:
        item = results.get("pdf", {}).get(key) or {}
        if item.get("skipped"):
            pdf_rows.append([label, item["skipped"], "—", "—", "—"])
            continue
        budget = item.get("budget_ok")
        pdf_rows.append([label, item.get("detail", ""),
                         f"{_num(item.get('median_s'), 2)} {mark(budget)}".strip(),
                         _num(item.get("max_s"), 2), _kb(item.get("size"))])
    lines += _table(["Document", "Détail", "Médiane (s)", "Max (s)", "Taille (Ko)"], pdf_rows,
                    "llrrr")

    batch = results.get("batch") or {}
    lines += ["", "## Lot de PDF de grilles par un worker Celery (2 processus)", ""]
    if batch.get("skipped"):
        lines.append(f"Non mesuré : {batch['skipped']}")
    else:
        lines += _table(
            ["Documents", "Durée (s)", "Documents/s", "Projection 100 PDF (s)", "Budget"],
            [[_num(batch.get("documents")), _num(batch.get("wall_s"), 2),
              _num(batch.get("docs_per_s"), 2),
              f"{_num(batch.get('projected_100_s'), 1)} {mark(batch.get('budget_ok'))}",
              mark(batch.get("budget_ok"))]], "rrrrc")
        lines += [f"- {note}" for note in batch.get("notes", [])]

    holders = results.get("holders") or {}
    lines += ["", "## Déclaration des titulaires : `manage.py export_holders --out FICHIER`", ""]
    if holders.get("skipped"):
        lines.append(f"Non mesuré : {holders['skipped']}")
    elif holders:
        b = holders.get("budget", {})
        target = _num(holders.get("target"))
        lines += _table(
            ["Passages", "Durée (s)", f"Durée pour {target} (s)", "Mémoire max (Mo)",
             "Démarrage seul (s, Mo)", "Fichier (Ko)", "SHA-256 du lot", "Budget"],
            [[_num(holders.get("passages")), _num(holders.get("wall_s"), 2),
              f"{_num(holders.get('projected_s'), 2)} {mark(b.get('time'))}",
              f"{_num(holders.get('peak_rss_mib'))} {mark(b.get('memory'))}",
              f"{_num(holders.get('startup_s'), 2)} ; {_num(holders.get('startup_rss_mib'))}",
              _kb(holders.get("size")), mark(holders.get("sha256_ok")),
              mark(holders.get("budget_ok"))]], "rrrrrrcc")
        lines += [f"- {note}" for note in holders.get("notes", [])]

    load = results.get("load") or {}
    lines += ["", "## Charge : évaluateurs en saisie simultanée (gunicorn, 4 workers)", ""]
    if load.get("skipped"):
        lines.append(f"Non mesuré : {load['skipped']}")
    else:
        b = load.get("budget", {})
        lines += _table(
            ["Utilisateurs", "Grilles", "Durée (s)", "Enregistrements", "Débit (req/s)",
             "p50 (ms)", "p95 (ms)", "Erreurs", "Conflits 409", "Mises à jour perdues",
             "Budget"],
            [[_num(load.get("users")), _num(load.get("grids")), _num(load.get("duration_s")),
              _num(load.get("saves")), _num(load.get("throughput_rps"), 1),
              _num(load.get("p50_ms")), f"{_num(load.get('p95_ms'))} {mark(b.get('p95'))}",
              f"{_num(load.get('errors'))} {mark(b.get('errors'))}",
              _num(load.get("stale_409")),
              f"{_num(load.get('lost_updates'))} {mark(b.get('lost_updates'))}",
              mark(load.get("budget_ok"))]], "rrrrrrrrrrc")
        lines += [f"- {note}" for note in load.get("notes", [])]

    notes = results.get("notes", [])
    failed = [p for p in results.get("pages", []) if p.get("error")]
    if notes or failed:
        lines += ["", "## Notes", ""]
        lines += [f"- {note}" for note in notes]
        lines += [f"- {p['label']} : {p['error']}" for p in failed]
    lines += ["", f"Tous les budgets tenus : {mark(results.get('budgets_ok'))}", ""]
    return "\n".join(lines)
