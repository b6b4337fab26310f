"""The candidate list's filters, as the gestionnaire sees them at desk and laptop widths and
on a phone: each select shows its chosen value whole (at one column the commission showed
« Commi… » and the short selects « Tou… »)."""

import pytest

from tests.browser.conftest import login

# The text of the select's chosen option against the room the select gives it (its width
# less the padding, where Bootstrap draws the arrow), in the select's own font.
CUT_SELECTS = """() => {
  const canvas = document.createElement("canvas").getContext("2d");
  return [...document.querySelectorAll("form.registration-filters select")].flatMap(select => {
    const style = getComputedStyle(select);
    canvas.font = style.font;
    const text = select.options[select.selectedIndex].text;
    const room = select.clientWidth - parseFloat(style.paddingLeft)
      - parseFloat(style.paddingRight);
    return canvas.measureText(text).width > room ? [`${select.name}: ${text}`] : [];
  });
}"""


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [1400, 1240, 1000, 390])
def test_the_chosen_filters_are_shown_whole(page, live_server, demo, width):
    page.set_viewport_size({"width": width, "height": 900})
    login(page, live_server, "gestionnaire")
    page.goto(f"{live_server.url}/candidats/")
    toggle = page.get_by_role("button", name="Rechercher et filtrer")
    if toggle.is_visible():  # phones: the filters fold under a button
        toggle.click()
    commission = page.locator("select[name=commission]")
    dates = commission.locator("option").all_inner_texts()[1:]
    assert dates, "the demo schedules candidates in commissions"
    commission.select_option(label=dates[0])
    page.get_by_role("button", name="Filtrer", exact=True).click()
    page.wait_for_url("**commission=*")  # filtered, the filters stay unfolded

    assert page.locator("select[name=commission] option:checked").inner_text() == dates[0]
    assert page.evaluate(CUT_SELECTS) == []
