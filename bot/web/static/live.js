// The directive page's progress block keeps itself current: every few seconds it fetches the block alone
// (GET data-refresh, same session cookie) and swaps it in only when it changed, so the aria-live="polite"
// region announces a change once, and focus, scrolling and typed text elsewhere on the page stay put.
// Without JavaScript the page still works; it is simply current as of its loading.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  for (const block of document.querySelectorAll("[data-refresh]")) {
    const target = block.querySelector("[data-live]");
    const every = Math.max(2, Number(block.dataset.every) || 5) * 1000;
    let timer = 0;
    const refresh = async () => {
      if (document.hidden) return; // a tab in the background asks nothing
      try {
        const answer = await fetch(block.dataset.refresh, { credentials: "same-origin", cache: "no-store" });
        if (!answer.ok) { // signed out, or gone out of scope: stop asking
          window.clearInterval(timer);
          return;
        }
        const fresh = document.createElement("template");
        fresh.innerHTML = (await answer.text()).trim(); // serialised as the page's own block is, to compare
        if (fresh.innerHTML !== target.innerHTML.trim()) target.innerHTML = fresh.innerHTML;
      } catch (error) {
        // The network dropped for a moment: the next tick tries again.
      }
    };
    timer = window.setInterval(refresh, every);
  }
});
