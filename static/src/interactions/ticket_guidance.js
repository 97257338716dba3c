import { Interaction } from "@web/public/interaction";
import { registry } from "@web/core/registry";

/**
 * New request form of the portal: of the guidance of every request type (all listed without
 * JavaScript), show only the one of the chosen type.
 */
export class CabinetTicketGuidance extends Interaction {
    static selector = ".o_cabinet_ticket_form";
    dynamicContent = {
        "select[name=category_id]": { "t-on-change.withTarget": this.onCategoryChange },
    };

    start() {
        const selectEl = this.el.querySelector("select[name=category_id]");
        if (selectEl) {
            this.showGuidance(selectEl.value);
        }
    }

    onCategoryChange(ev, selectEl) {
        this.showGuidance(selectEl.value);
    }

    showGuidance(categoryId) {
        for (const guidanceEl of this.el.querySelectorAll(".o_cabinet_guidance [data-category-id]")) {
            guidanceEl.classList.toggle("d-none", guidanceEl.dataset.categoryId !== categoryId);
        }
    }
}

registry.category("public.interactions").add("cabinet_helpdesk.ticket_guidance", CabinetTicketGuidance);
