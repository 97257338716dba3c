import { registry } from "@web/core/registry";

/**
 * A client files a request with a document from the portal, finds it in the list, answers in
 * the conversation and closes it. Started by tests/test_portal.py as a portal user.
 */
registry.category("web_tour.tours").add("cabinet_portal_tour", {
    url: "/my/tickets",
    steps: () => [
        {
            content: "Open the new request form",
            trigger: "a.o_cabinet_new_ticket",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Choose the type of request",
            trigger: "select[name=category_id]",
            run: "selectByLabel Client Request",
        },
        {
            content: "Give a subject",
            trigger: "input[name=name]",
            run: "edit Cracks in the kitchen wall",
        },
        {
            content: "Describe the need",
            trigger: "textarea[name=description]",
            run: "edit A crack appeared above the kitchen window last week.",
        },
        {
            content: "A file over the size limit is refused at once",
            trigger: "input[name=attachments]",
            run() {
                const transfer = new DataTransfer();
                transfer.items.add(new File([new Uint8Array(1024 * 1024 + 1)], "huge_scan.pdf", { type: "application/pdf" }));
                this.anchor.files = transfer.files;
                this.anchor.dispatchEvent(new Event("change", { bubbles: true }));
            },
        },
        {
            content: "The form says the file is too large",
            trigger: ".o_cabinet_attachment_error:contains(huge_scan.pdf)",
        },
        {
            content: "Attach a photo report",
            trigger: "input[name=attachments]",
            run() {
                const transfer = new DataTransfer();
                transfer.items.add(new File(["Crack of 2 mm, 40 cm long"], "crack_report.txt", { type: "text/plain" }));
                this.anchor.files = transfer.files;
                this.anchor.dispatchEvent(new Event("change", { bubbles: true }));
            },
        },
        {
            content: "The smaller file is accepted",
            trigger: "input[name=attachments]:not(.is-invalid)",
        },
        {
            content: "The privacy notice is shown before the first request",
            trigger: ".o_cabinet_privacy_ack a[href='/my/tickets/privacy']",
        },
        {
            content: "Send the request",
            trigger: "button.o_cabinet_ticket_submit",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The ticket page shows the request",
            trigger: ".o_cabinet_portal_ticket h3:contains(Cracks in the kitchen wall)",
        },
        {
            content: "The document is in the conversation",
            trigger: "#chatterRoot:shadow .o-mail-Message:contains(Documents sent with the request)",
        },
        {
            content: "Back to the list",
            trigger: ".breadcrumb a[href='/my/tickets']",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The request is in the list",
            trigger: "tr.o_cabinet_portal_ticket_row a:contains(Cracks in the kitchen wall)",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Write an answer",
            trigger: "#chatterRoot:shadow .o-mail-Composer-input",
            run: "edit The crack is now 3 mm wide.",
        },
        {
            content: "Send the answer",
            trigger: "#chatterRoot:shadow .o-mail-Composer button:contains(Send):enabled",
            run: "click",
        },
        {
            content: "The answer is in the conversation",
            trigger: "#chatterRoot:shadow .o-mail-Message:contains(The crack is now 3 mm wide)",
        },
        {
            content: "Give a reason to close",
            trigger: "input#close_reason",
            run: "edit Repaired by the builder",
        },
        {
            content: "Close the ticket",
            trigger: "button.o_cabinet_ticket_close",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The ticket is closed and may be rated",
            trigger: ".o_cabinet_ticket_closed .o_cabinet_rating_request",
        },
    ],
});
