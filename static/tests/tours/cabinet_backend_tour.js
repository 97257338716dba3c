import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("cabinet_helpdesk_backend_tour", {
    url: "/odoo/action-cabinet_helpdesk.cabinet_ticket_action",
    steps: () => [
        {
            content: "Open a new ticket",
            trigger: ".o-kanban-button-new",
            run: "click",
        },
        {
            content: "Write the subject",
            trigger: ".o_field_widget[name=name] input",
            run: "edit Leaking roof after the works",
        },
        {
            content: "Pick the one requester",
            trigger: ".o_field_widget[name=partner_id] input",
            run: "edit Tour Requester",
        },
        {
            trigger: ".o-autocomplete--dropdown-item a:contains(Tour Requester)",
            run: "click",
        },
        {
            content: "Save the ticket",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "The ticket got its number",
            trigger: ".o_field_widget[name=number] span:contains(T)",
        },
        {
            content: "Take the ticket",
            trigger: "button[name=action_assign_to_me]",
            run: "click",
        },
        {
            content: "Once assigned, the button is gone",
            trigger: ".o_form_view:not(:has(button[name=action_assign_to_me]))",
        },
        {
            content: "Close the ticket",
            trigger: "button[name=action_close]",
            run: "click",
        },
        {
            content: "The ticket is in a closing stage",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains(Done)",
        },
    ],
});
