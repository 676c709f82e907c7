// A progressive extra: with JavaScript the cookie banner's choice is sent without reloading the
// page, and the banner goes away. Without it the same plain form posts and redirects back.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const banner = document.querySelector(".cookie-banner");
  const form = banner && banner.querySelector("form");
  if (!form || !window.fetch) {
    return;
  }
  form.addEventListener("submit", async (event) => {
    const data = new FormData(form);
    if (event.submitter && event.submitter.name) {
      data.append(event.submitter.name, event.submitter.value);
    }
    event.preventDefault();
    try {
      const response = await fetch(form.action, { method: "POST", body: data, credentials: "same-origin" });
      if (!response.ok) {
        throw new Error(String(response.status));
      }
      banner.remove();
      document.getElementById("main").focus();
    } catch (error) {
      form.submit();  // the plain way still works
    }
  });
});
