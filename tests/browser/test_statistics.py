"""Journey: the demo gestionnaire opens « Statistiques » from the navigation and sees the
charts drawn by the vendored Chart.js (CSP on, no console error); an evaluator gets a 404."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import login

pytestmark = pytest.mark.django_db(transaction=True)

CHARTS = ["registrations-by-path", "decisions-by-path", "by-certification", "evaluator-load",
          "cpne-bundles"]

# A Chart instance on the canvas, and pixels painted on it (axes, bars, legend).
DRAWN = """(canvas) => {
  const chart = window.Chart.getChart(canvas);
  if (!chart || canvas.width === 0 || canvas.height === 0) return 0;
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] > 0) painted += 1; }
  return painted;
}"""


def test_gestionnaire_sees_the_statistics_charts_drawn(page, live_server, demo, screenshots_dir):
    login(page, live_server, "gestionnaire")

    page.get_by_role("button", name="Rapports").click()
    page.get_by_role("link", name="Statistiques").click()

    expect(page.get_by_role("heading", name="Statistiques")).to_be_visible()
    for chart in CHARTS:
        canvas = page.locator(f'canvas[data-chart="{chart}"]')
        expect(canvas).to_have_attribute("data-chart-ready", "true")
        assert canvas.evaluate(DRAWN) > 100, f"the chart {chart} is not drawn"
        # Its figures are also in the table beside it.
        expect(page.get_by_test_id(f"table-{chart}")).to_be_visible()
    page.screenshot(path=screenshots_dir / "statistics.png", full_page=True)


def test_evaluator_gets_404_on_statistics(page, live_server, demo):
    login(page, live_server, "evaluateur1")

    expect(page.get_by_role("button", name="Rapports")).to_have_count(0)
    expect(page.get_by_role("link", name="Statistiques")).to_have_count(0)
    response = page.request.get(f"{live_server.url}/rapports/statistiques/")
    assert response.status == 404
