import { Interaction } from "@web/public/interaction";
import { registry } from "@web/core/registry";
import { _t } from "@web/core/l10n/translation";

/**
 * New request form of the portal: warns at once when a chosen file is larger than the firm
 * accepts (the server checks it again), so the client does not wait for an upload to fail.
 */
export class CabinetTicketForm extends Interaction {
    static selector = ".o_cabinet_ticket_form";
    dynamicContent = {
        "input[name=attachments]": { "t-on-change.withTarget": this.onFilesChange },
    };

    setup() {
        this.maxSizeMb = parseInt(this.el.dataset.maxSizeMb) || 20;
    }

    onFilesChange(ev, inputEl) {
        const maxBytes = this.maxSizeMb * 1024 * 1024;
        const tooLarge = [...inputEl.files].find((file) => file.size > maxBytes);
        const message = tooLarge
            ? _t("The file %(name)s is larger than %(size)s MB: please send a smaller file.", {
                  name: tooLarge.name,
                  size: this.maxSizeMb,
              })
            : "";
        inputEl.setCustomValidity(message);
        inputEl.classList.toggle("is-invalid", Boolean(message));
        let feedbackEl = inputEl.parentElement.querySelector(".o_cabinet_attachment_error");
        if (message && !feedbackEl) {
            feedbackEl = document.createElement("div");
            feedbackEl.className = "invalid-feedback o_cabinet_attachment_error";
            inputEl.after(feedbackEl);
        }
        if (feedbackEl) {
            feedbackEl.textContent = message;
        }
    }
}

registry.category("public.interactions").add("cabinet_helpdesk.ticket_form", CabinetTicketForm);
