// Arena keyboard shortcuts: a key press clicks the control that declares it in
// data-arena-key (1–4 vote, n next battle). Ignored while typing or with modifiers.
document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || event.repeat) return;
  if (event.target.closest && event.target.closest("input, textarea, select, [contenteditable]")) return;
  const key = event.key.toLowerCase();
  const control = Array.from(document.querySelectorAll("[data-arena-key]")).find(
    (element) => element.dataset.arenaKey === key && !element.disabled,
  );
  if (!control) return;
  event.preventDefault();
  control.click();
});
