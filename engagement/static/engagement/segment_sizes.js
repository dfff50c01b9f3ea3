// Saved segments' sizes, counted when shown but after the page: every element with
// data-segment-id (and data-sizes-url) on the page is filled from one request, one query.
// See engagement/admin/segments.py (SavedSegmentAdmin.sizes_view).
"use strict";
{
    const fill = () => {
        const spans = Array.from(document.querySelectorAll("[data-segment-id][data-sizes-url]"));
        if (!spans.length) {
            return;
        }
        const url = new URL(spans[0].dataset.sizesUrl, window.location.href);
        spans.forEach((span) => url.searchParams.append("id", span.dataset.segmentId));
        const show = (span, text) => {
            span.textContent = span.dataset.parens ? `(${text})` : text;
        };
        fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}})
            .then((answer) => (answer.ok ? answer.json() : Promise.reject(answer.status)))
            .then((body) => spans.forEach((span) => {
                const size = body.sizes[span.dataset.segmentId];
                show(span, size === null || size === undefined ? span.dataset.unknown || "?" : size);
            }))
            .catch(() => spans.forEach((span) => show(span, "?")));
    };
    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", fill);
    } else {
        fill();
    }
}
