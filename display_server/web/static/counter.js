// Keyboard shortcuts for the counter console: each key presses the button marked data-key.
document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target instanceof HTMLInputElement || target instanceof HTMLSelectElement || target instanceof HTMLTextAreaElement) return;
  const button = document.querySelector(`button[data-key="${event.key.toLowerCase()}"]`);
  if (button && !button.disabled) {
    event.preventDefault();
    button.click();
  }
});
